"""Builders of the envelopes invoice_svc consumes: orders from order_svc, commands from the ERP."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    CreditLine,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.documents import DocumentLine, DocumentTotals, InvoicingPolicy, PaymentTerms
from contracts.envelope import Envelope, make_envelope
from contracts.invoices import (
    BilledLine,
    CancelInvoice,
    PaymentAllocation,
    RecordPayment,
    RegisterExternalInvoice,
)
from contracts.leads import ContactInfo
from contracts.money import sum_totals
from contracts.orders import (
    FulfilledLine,
    FulfilmentCompleteness,
    OrderAcknowledged,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
)
from contracts.parties import CustomerDetails

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
    policy: InvoicingPolicy | None = None,
    down_payment_rate: str | None = None,
    customer_details: CustomerDetails | None = None,
    customer_po: str | None = None,
) -> Envelope[OrderConfirmed]:
    """A confirmed order whose totals are the sum of its lines unless `totals` says otherwise;
    its number is `order_number_of(order_id)`."""
    lines = lines if lines is not None else priced_lines(currency)
    order_id = order_id or uuid.uuid4()
    payload = OrderConfirmed(
        order_id=order_id,
        order_number=order_number_of(order_id),
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
        invoicing_policy=policy,
        down_payment_rate=Decimal(down_payment_rate) if down_payment_rate else None,
        customer_details=customer_details,
        customer_po=customer_po,
    )
    return make_envelope(
        payload,
        event_type="order.confirmed",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
        event_id=event_id,
    )


def order_number_of(order_id: uuid.UUID) -> str:
    """The number `order_confirmed` gives the order."""
    return f"SO-{str(order_id)[:8]}"


def order_acknowledged(
    deal_id: str, order_id: uuid.UUID, erp_order_number: str
) -> Envelope[OrderAcknowledged]:
    """The ERP booked the order under its own number, as order_svc announces it."""
    payload = OrderAcknowledged(
        order_id=order_id,
        order_number=order_number_of(order_id),
        erp_order_number=erp_order_number,
    )
    return make_envelope(
        payload,
        event_type="order.acknowledged",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
    )


def order_cancelled(
    deal_id: str,
    order_id: uuid.UUID,
    reason: str = "customer withdrew",
    *,
    shipped: dict[int, tuple[str, str]] | None = None,
) -> Envelope[OrderCancelled]:
    """`shipped`: line -> (ordered, shipped so far) at the cancellation."""
    payload = OrderCancelled(
        order_id=order_id,
        order_number=f"SO-{str(order_id)[:8]}",
        reason=reason,
        lines=_fulfilled(shipped or {}),
    )
    return make_envelope(
        payload,
        event_type="order.cancelled",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
    )


def order_fulfilled(
    deal_id: str, order_id: uuid.UUID, shipment_ref: str, shipped: dict[int, tuple[str, str]]
) -> Envelope[OrderFulfilled]:
    """`shipped`: line -> (ordered, shipped so far, this shipment included)."""
    complete = all(Decimal(a) == Decimal(b) for a, b in shipped.values())
    payload = OrderFulfilled(
        order_id=order_id,
        order_number=f"SO-{str(order_id)[:8]}",
        shipment_ref=shipment_ref,
        completeness=FulfilmentCompleteness.COMPLETE
        if complete
        else FulfilmentCompleteness.PARTIAL,
        lines=_fulfilled(shipped),
    )
    return make_envelope(
        payload,
        event_type="order.fulfilled",
        deal_id=deal_id,
        producer="order_svc",
        occurred_at=NOW,
    )


def _fulfilled(shipped: dict[int, tuple[str, str]]) -> tuple[FulfilledLine, ...]:
    return tuple(
        FulfilledLine(line_no=n, quantity_ordered=Decimal(o), quantity_shipped_total=Decimal(t))
        for n, (o, t) in sorted(shipped.items())
    )


def register_external(
    deal_id: str,
    order_id: uuid.UUID | None,
    external_invoice_id: str,
    *,
    totals: DocumentTotals | None = None,
    currency: str = "EUR",
    invoice_number: str | None = None,
    lines: tuple[tuple[int, str], ...] | None = None,
    order_number: str | None = None,
    erp_order_number: str | None = None,
) -> Envelope[RegisterExternalInvoice]:
    """An ERP invoice naming its order by id, by salesflow's number or by the ERP's number."""
    payload = RegisterExternalInvoice(
        external_invoice_id=external_invoice_id,
        invoice_number=invoice_number or f"ERP-{external_invoice_id}",
        order_id=order_id,
        order_number=order_number,
        erp_order_number=erp_order_number,
        currency=currency,
        totals=totals or totals_of(priced_lines(currency), currency),
        issue_date=date(2026, 11, 27),
        due_date=date(2026, 12, 27),
        lines=None
        if lines is None
        else tuple(BilledLine(line_no=n, quantity=Decimal(q)) for n, q in lines),
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
    allocations: tuple[tuple[uuid.UUID, str], ...] = (),
    order_number: str | None = None,
    erp_order_number: str | None = None,
) -> Envelope[RecordPayment]:
    payload = RecordPayment(
        payment_id=payment_id or f"PAY-{uuid.uuid4().hex[:12]}",
        invoice_id=invoice_id,
        external_invoice_id=external_invoice_id,
        order_number=order_number,
        erp_order_number=erp_order_number,
        amount=Decimal(amount),
        currency=currency,
        paid_at=NOW,
        method="sepa_transfer",
        allocations=tuple(
            PaymentAllocation(invoice_id=i, amount=Decimal(a)) for i, a in allocations
        ),
    )
    return _command(payload, "invoice.record_payment", deal_id)


def cancel_invoice(
    deal_id: str, invoice_id: uuid.UUID, reason: str = "issued in error"
) -> Envelope[CancelInvoice]:
    payload = CancelInvoice(invoice_id=invoice_id, reason=reason, requested_by="ap.clerk")
    return _command(payload, "invoice.cancel", deal_id)


def credit_invoice(
    deal_id: str,
    invoice_id: uuid.UUID,
    *,
    ref: str | None = None,
    lines: tuple[tuple[int, str], ...] = (),
    amount: str | None = None,
    reason: str = "returned goods",
) -> Envelope[CreditInvoice]:
    payload = CreditInvoice(
        invoice_id=invoice_id,
        credit_ref=ref or f"CR-{uuid.uuid4().hex[:10]}",
        lines=tuple(CreditLine(line_no=n, quantity=Decimal(q)) for n, q in lines),
        amount=Decimal(amount) if amount is not None else None,
        reason=reason,
        requested_by="ar.clerk",
    )
    return _command(payload, "invoice.credit", deal_id)


def register_external_credit(
    deal_id: str,
    external_invoice_id: str,
    external_credit_note_id: str,
    totals: DocumentTotals,
    *,
    lines: tuple[tuple[int, str], ...] = (),
    currency: str = "EUR",
) -> Envelope[RegisterExternalCreditNote]:
    payload = RegisterExternalCreditNote(
        external_invoice_id=external_invoice_id,
        external_credit_note_id=external_credit_note_id,
        credit_note_number=f"ERP-{external_credit_note_id}",
        currency=currency,
        lines=tuple(CreditLine(line_no=n, quantity=Decimal(q)) for n, q in lines),
        totals=totals,
        issue_date=date(2026, 11, 28),
        reason="ERP correction",
    )
    return _command(payload, "invoice.register_external_credit", deal_id)


def record_refund(
    account_id: uuid.UUID, amount: str, *, refund_id: str | None = None, currency: str = "EUR"
) -> Envelope[RecordRefund]:
    payload = RecordRefund(
        refund_id=refund_id or f"RF-{uuid.uuid4().hex[:10]}",
        account_id=account_id,
        currency=currency,
        amount=Decimal(amount),
        refunded_at=NOW,
        method="sepa_transfer",
    )
    return _command(payload, "invoice.record_refund", str(account_id))


def apply_credit(
    account_id: uuid.UUID,
    invoice_id: uuid.UUID,
    amount: str,
    *,
    application_id: str | None = None,
    currency: str = "EUR",
) -> Envelope[ApplyCredit]:
    payload = ApplyCredit(
        application_id=application_id or f"AP-{uuid.uuid4().hex[:10]}",
        account_id=account_id,
        invoice_id=invoice_id,
        currency=currency,
        amount=Decimal(amount),
    )
    return _command(payload, "invoice.apply_credit", str(account_id))


def _command(payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
    return make_envelope(
        payload, event_type=event_type, deal_id=deal_id, producer=ERP, occurred_at=NOW
    )
