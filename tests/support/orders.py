"""Builders of order_svc's inbound envelopes for tests: accepted quotes (as quote_svc or an ERP
would publish them), order commands (the ERP's answers among them), posted invoices, credit notes
for them, and payments applied to them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.billing import CreditLine, InvoiceCredited
from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.envelope import Envelope, make_envelope
from contracts.invoices import (
    InvoiceKind,
    InvoicePaid,
    InvoicePosted,
    InvoiceSource,
    PaymentStatus,
)
from contracts.leads import ContactInfo
from contracts.money import sum_totals
from contracts.orders import (
    AcknowledgeOrder,
    CancelOrder,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
    ShippedLine,
)
from contracts.parties import Address
from contracts.quotes import QuoteAccepted

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ERP = "erp-crm"
UPSTREAM = "test-upstream"
ACCOUNTING = "test-accounting"

# (sku, description, quantity, unit_price, discount, tax_rate)
Line = tuple[str | None, str, str, str, str, str]
LINES: tuple[Line, ...] = (
    ("SKU-1001", "Widget, blue, 10 mm", "10", "19.99", "9.90", "0.19"),
    ("SKU-2002", "Gadget", "3", "333.335", "0", "0.07"),
    (None, "Installation, on site", "1", "120.00", "0", "0.19"),
)


def priced_lines(
    lines: tuple[Line, ...] = LINES, currency: str = "EUR"
) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine.priced(
            line_no=n,
            sku=sku,
            description=text,
            quantity=Decimal(qty),
            unit="each",
            unit_price=Decimal(price),
            discount_amount=Decimal(discount),
            tax_rate=Decimal(rate),
            currency=currency,
        )
        for n, (sku, text, qty, price, discount, rate) in enumerate(lines, start=1)
    )


def accepted(
    deal_id: str,
    *,
    quote_id: UUID | None = None,
    lines: tuple[Line, ...] = LINES,
    currency: str = "EUR",
    totals: DocumentTotals | None = None,
    producer: str = ERP,
    event_id: UUID | None = None,
    **changes: Any,
) -> Envelope[QuoteAccepted]:
    """A quote accepted on `deal_id` (the lead id), priced and totalled by the money rule."""
    document_lines = priced_lines(lines, currency)
    payload = QuoteAccepted(
        quote_id=quote_id or uuid.uuid4(),
        quote_number=f"Q-{deal_id}"[:64],
        revision=1,
        opportunity_id=uuid.uuid5(uuid.NAMESPACE_URL, f"opportunity:{deal_id}"),
        lead_id=deal_id,
        account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"account:{deal_id}"),
        account_name=f"Analytical Engines {deal_id}",
        contact_id=uuid.uuid5(uuid.NAMESPACE_URL, f"contact:{deal_id}"),
        contact=ContactInfo(first_name="Ada", last_name="Lovelace", email=f"{deal_id}@example.com"),
        price_list_id=f"PL-{currency}-2026",
        currency=currency,
        lines=document_lines,
        totals=totals
        or DocumentTotals.from_money(
            sum_totals((line.amounts(currency) for line in document_lines), currency)
        ),
        payment_terms=PaymentTerms.NET_30,
        customer_po="PO 4711/2026",
        accepted_at=NOW,
    )
    if changes:
        payload = payload.model_copy(update=changes)
    return make_envelope(
        payload,
        event_type="quote.accepted",
        deal_id=deal_id,
        producer=producer,
        occurred_at=NOW,
        event_id=event_id,
    )


def cancel(deal_id: str, order_id: UUID, reason: str = "customer withdrew") -> Envelope[Any]:
    payload = CancelOrder(order_id=order_id, reason=reason, requested_by="rep@example.com")
    return make_envelope(
        payload, event_type="order.cancel", deal_id=deal_id, producer=UPSTREAM, occurred_at=NOW
    )


def acknowledge(
    deal_id: str,
    erp_order_number: str,
    *,
    order_id: UUID | None = None,
    order_number: str | None = None,
) -> Envelope[AcknowledgeOrder]:
    """The ERP booked the order (named by id or by number) under `erp_order_number`."""
    payload = AcknowledgeOrder(
        order_id=order_id,
        order_number=order_number,
        erp_order_number=erp_order_number,
        requested_by="erp-connector",
    )
    return make_envelope(
        payload, event_type="order.acknowledge", deal_id=deal_id, producer=ERP, occurred_at=NOW
    )


def refuse(
    deal_id: str,
    *,
    order_id: UUID | None = None,
    order_number: str | None = None,
    reason_code: str = "unknown_ship_to",
    detail: str = "the ship-to address is not deliverable",
) -> Envelope[RefuseOrder]:
    payload = RefuseOrder(
        order_id=order_id,
        order_number=order_number,
        reason_code=reason_code,
        detail=detail,
        requested_by="erp-connector",
    )
    return make_envelope(
        payload, event_type="order.refuse", deal_id=deal_id, producer=ERP, occurred_at=NOW
    )


def resubmit(
    deal_id: str,
    order_id: UUID,
    *,
    ship_to: Address | None = None,
    requested_delivery_date: date | None = None,
    shipping_method: str | None = None,
    customer_po: str | None = None,
) -> Envelope[ResubmitOrder]:
    payload = ResubmitOrder(
        order_id=order_id,
        ship_to=ship_to,
        requested_delivery_date=requested_delivery_date,
        shipping_method=shipping_method,
        customer_po=customer_po,
        requested_by="rep@example.com",
    )
    return make_envelope(
        payload, event_type="order.resubmit", deal_id=deal_id, producer=UPSTREAM, occurred_at=NOW
    )


def fulfilment(
    deal_id: str, order_id: UUID, shipment_ref: str, lines: dict[int, str]
) -> Envelope[Any]:
    payload = RecordFulfilment(
        order_id=order_id,
        shipment_ref=shipment_ref,
        lines=tuple(ShippedLine(line_no=n, quantity_shipped=Decimal(q)) for n, q in lines.items()),
    )
    return make_envelope(
        payload,
        event_type="order.record_fulfilment",
        deal_id=deal_id,
        producer=UPSTREAM,
        occurred_at=NOW,
    )


def invoice_posted(
    deal_id: str,
    order_id: UUID,
    *,
    quote_id: UUID | None = None,
    invoice_id: UUID | None = None,
    invoice_number: str = "INV-2026-000001",
    totals: DocumentTotals | None = None,
    lines: dict[int, str] | None = None,
    kind: InvoiceKind = InvoiceKind.STANDARD,
) -> Envelope[InvoicePosted]:
    """An invoice for the order made by `accepted` (its default lines): all of it, or the
    quantities of `lines` (line number -> quantity). A down payment bills no order line."""
    if kind is InvoiceKind.DOWN_PAYMENT:
        billed: tuple[DocumentLine, ...] = ()
    else:
        billed = tuple(
            line.model_copy(update={"quantity": Decimal(lines[line.line_no])})
            if lines is not None
            else line
            for line in priced_lines()
            if lines is None or line.line_no in lines
        )
    payload = InvoicePosted(
        invoice_id=invoice_id or uuid.uuid4(),
        invoice_number=invoice_number,
        source=InvoiceSource.EXTERNAL,
        external_invoice_id=f"ERP-{invoice_number}",
        order_id=order_id,
        order_number="SO-2026-00001",
        quote_id=quote_id or uuid.uuid4(),
        account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"account:{deal_id}"),
        account_name=f"Analytical Engines {deal_id}",
        currency="EUR",
        # Line amounts are not what order_svc reads (only line numbers and quantities).
        lines=billed,
        kind=kind,
        totals=totals
        or DocumentTotals(
            subtotal=Decimal(0),
            discount_total=Decimal(0),
            net_total=Decimal(0),
            tax_total=Decimal(0),
            grand_total=Decimal(0),
        ),
        payment_terms=PaymentTerms.NET_30,
        issue_date=date(2026, 11, 27),
        due_date=date(2026, 12, 27),
    )
    return make_envelope(
        payload, event_type="invoice.posted", deal_id=deal_id, producer=ERP, occurred_at=NOW
    )


def invoice_paid(
    deal_id: str,
    invoice_id: UUID,
    *,
    invoice_number: str = "INV-2026-000001",
    payment_id: str | None = None,
    amount: str = "100.00",
    balance_due: str = "126.10",
) -> Envelope[InvoicePaid]:
    """A payment applied to `invoice_id`, keyed by the deal as invoice_svc publishes it; no
    order id on the wire."""
    paid_total = Decimal(amount)
    balance = Decimal(balance_due)
    payload = InvoicePaid(
        invoice_id=invoice_id,
        invoice_number=invoice_number,
        payment_id=payment_id or f"PAY-{uuid.uuid4().hex[:12]}",
        amount=paid_total,
        currency="EUR",
        paid_at=NOW,
        amount_paid_total=paid_total,
        balance_due=balance,
        status=PaymentStatus.COMPLETE if balance <= 0 else PaymentStatus.PARTIAL,
    )
    return make_envelope(
        payload, event_type="invoice.paid", deal_id=deal_id, producer=ACCOUNTING, occurred_at=NOW
    )


def invoice_credited(
    deal_id: str,
    order_id: UUID,
    invoice_id: UUID,
    *,
    credit_note_id: UUID | None = None,
    credit_note_number: str = "CN-2026-000001",
    order_lines: dict[int, str] | None = None,
) -> Envelope[InvoiceCredited]:
    """A credit note for `invoice_id` taking back `order_lines` (line number -> quantity) from
    the order's billing; none: a credit of an amount (or of a down payment)."""
    zero = DocumentTotals(
        subtotal=Decimal(0),
        discount_total=Decimal(0),
        net_total=Decimal(0),
        tax_total=Decimal(0),
        grand_total=Decimal(0),
    )
    payload = InvoiceCredited(
        credit_note_id=credit_note_id or uuid.uuid4(),
        credit_note_number=credit_note_number,
        source=InvoiceSource.NATIVE,
        invoice_id=invoice_id,
        invoice_number="INV-2026-000001",
        order_id=order_id,
        order_number="SO-2026-00001",
        account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"account:{deal_id}"),
        account_name=f"Analytical Engines {deal_id}",
        currency="EUR",
        # Amounts are not what order_svc reads (only `order_lines`).
        lines=(),
        totals=zero,
        reason="returned",
        issue_date=date(2026, 11, 28),
        order_lines=tuple(
            CreditLine(line_no=n, quantity=Decimal(q)) for n, q in (order_lines or {}).items()
        ),
        invoice_balance_due=Decimal(0),
    )
    return make_envelope(
        payload, event_type="invoice.credited", deal_id=deal_id, producer=ERP, occurred_at=NOW
    )
