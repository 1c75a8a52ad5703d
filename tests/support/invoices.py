"""Builders of the envelopes invoice_svc consumes: orders from order_svc, commands from the ERP."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.envelope import Envelope, make_envelope
from contracts.invoices import CancelInvoice, RecordPayment, RegisterExternalInvoice
from contracts.leads import ContactInfo
from contracts.money import sum_totals
from contracts.orders import OrderCancelled, OrderConfirmed

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ERP = "test-erp"

# (sku, quantity, unit price, discount, tax rate)
DEFAULT_LINES: tuple[tuple[str | None, str, str, str, str], ...] = (
    ("SKU-1001", "10", "19.99", "9.90", "0.19"),  # 226.10
    (None, "3", "33.333", "0", "0.07"),  # write-in: 100.00 + 7.00
)


def priced_lines(
    currency: str = "EUR",
    specs: tuple[tuple[str | None, str, str, str, str], ...] = DEFAULT_LINES,
) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine.priced(
            line_no=i,
            sku=sku,
            description=f"item {i}",
            quantity=Decimal(qty),
            unit="each",
            unit_price=Decimal(price),
            discount_amount=Decimal(discount),
            tax_rate=Decimal(rate),
            currency=currency,
        )
        for i, (sku, qty, price, discount, rate) in enumerate(specs, start=1)
    )


def totals_of(lines: tuple[DocumentLine, ...], currency: str = "EUR") -> DocumentTotals:
    return DocumentTotals.from_money(sum_totals((ln.amounts(currency) for ln in lines), currency))


def order_confirmed(
    deal_id: str,
    *,
    order_id: uuid.UUID | None = None,
    currency: str = "EUR",
    lines: tuple[DocumentLine, ...] | None = None,
    totals: DocumentTotals | None = None,
    terms: PaymentTerms = PaymentTerms.NET_30,
    event_id: uuid.UUID | None = None,
) -> Envelope[OrderConfirmed]:
    """A confirmed order whose totals are the sum of its lines unless `totals` says otherwise."""
    lines = lines if lines is not None else priced_lines(currency)
    order_id = order_id or uuid.uuid4()
    payload = OrderConfirmed(
        order_id=order_id,
        order_number=f"SO-{str(order_id)[:8]}",
        quote_id=uuid.uuid5(order_id, "quote"),
        quote_number=f"Q-{str(order_id)[:8]}",
        opportunity_id=uuid.uuid5(order_id, "opportunity"),
        lead_id=deal_id,
        account_id=uuid.uuid5(order_id, "account"),
        account_name="Analytical Engines Ltd",
        contact_id=uuid.uuid5(order_id, "contact"),
        contact=ContactInfo(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        price_list_id=f"PL-{currency}-2026",
        currency=currency,
        lines=lines,
        totals=totals or totals_of(lines, currency),
        payment_terms=terms,
        confirmed_at=NOW,
    )
    return make_envelope(
        payload,
        event_type="order.confirmed",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
        event_id=event_id,
    )


def order_cancelled(
    deal_id: str, order_id: uuid.UUID, reason: str = "customer withdrew"
) -> Envelope[OrderCancelled]:
    payload = OrderCancelled(
        order_id=order_id, order_number=f"SO-{str(order_id)[:8]}", reason=reason
    )
    return make_envelope(
        payload,
        event_type="order.cancelled",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
    )


def register_external(
    deal_id: str,
    order_id: uuid.UUID,
    external_invoice_id: str,
    *,
    totals: DocumentTotals | None = None,
    currency: str = "EUR",
    invoice_number: str | None = None,
) -> Envelope[RegisterExternalInvoice]:
    payload = RegisterExternalInvoice(
        external_invoice_id=external_invoice_id,
        invoice_number=invoice_number or f"ERP-{external_invoice_id}",
        order_id=order_id,
        currency=currency,
        totals=totals or totals_of(priced_lines(currency), currency),
        issue_date=date(2026, 11, 27),
        due_date=date(2026, 12, 27),
    )
    return _command(payload, "invoice.register_external", deal_id)


def record_payment(
    deal_id: str,
    amount: str,
    *,
    invoice_id: uuid.UUID | None = None,
    external_invoice_id: str | None = None,
    payment_id: str | None = None,
    currency: str = "EUR",
) -> Envelope[RecordPayment]:
    payload = RecordPayment(
        payment_id=payment_id or f"PAY-{uuid.uuid4().hex[:12]}",
        invoice_id=invoice_id,
        external_invoice_id=external_invoice_id,
        amount=Decimal(amount),
        currency=currency,
        paid_at=NOW,
        method="sepa_transfer",
    )
    return _command(payload, "invoice.record_payment", deal_id)


def cancel_invoice(
    deal_id: str, invoice_id: uuid.UUID, reason: str = "issued in error"
) -> Envelope[CancelInvoice]:
    payload = CancelInvoice(invoice_id=invoice_id, reason=reason, requested_by="ap.clerk")
    return _command(payload, "invoice.cancel", deal_id)


def _command(payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
    return make_envelope(
        payload, event_type=event_type, deal_id=deal_id, producer=ERP, occurred_at=NOW
    )
