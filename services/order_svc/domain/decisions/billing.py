"""The order's billing decisions: an invoice posted for it, a credit note issued for one of its
invoices, a payment seen for one of them.

These are events from invoice_svc (or an accounting system speaking its contract), not commands:
nothing is refused, and what concerns no order of ours, or was applied already, is `Ignored`.
The order counts the quantity invoiced per line net of credit notes (`Order.invoiced_of`) and
is not / partly / fully invoiced (`Order.billing_status`); fully invoiced makes it Invoiced
unless it is canceled (`Order.settled`). Each document counts once, by its id: upstream systems
resend under new event ids, which the inbox cannot recognise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from uuid import UUID

from services.order_svc.domain.decisions.outcomes import Billed, Ignored, InvoiceMarkedPaid
from services.order_svc.domain.model import (
    CreditNote,
    InvoiceKind,
    InvoiceRef,
    Order,
    PostedInvoice,
)


def record_invoice(
    order: Order | None, *, order_id: UUID, deal_id: str, invoice: PostedInvoice, now: datetime
) -> Billed | Ignored:
    """Record a posted invoice on the order and add the quantities it bills.

    A standard invoice bills order lines (its line numbers are the order's); a down payment
    bills a share of the order and no quantity, so it is recorded (a payment may name it) but
    moves nothing. A canceled order stays Canceled and still counts the invoice: made before
    the cancellation reached invoice_svc, it is what invoice_svc then credits.
    """
    found = _ours(order, order_id, deal_id)
    if isinstance(found, Ignored):
        return found
    order = found
    if any(ref.invoice_id == invoice.invoice_id for ref in order.invoices):
        return Ignored("invoice_known", f"invoice {invoice.invoice_number} was recorded already")
    lines = invoice.lines if invoice.kind is InvoiceKind.STANDARD else ()
    counted, stray = _by_order_line(order, lines)
    billed = replace(
        order,
        invoices=(*order.invoices, InvoiceRef(invoice.invoice_id, invoice.invoice_number)),
        invoiced=_added(order.invoiced, counted),
        updated_at=now,
    ).settled()
    return Billed(billed, invoice.invoice_id, _moved(order, billed), stray)


def record_credit(
    order: Order | None, *, order_id: UUID, deal_id: str, credit: CreditNote, now: datetime
) -> Billed | Ignored:
    """Take back from the order's billing the quantities a credit note credits.

    Whether or not its invoice was recorded yet: the two come on different topics, and the
    quantities are kept apart (`Order.invoiced`, `Order.credited`) so that either order of
    arrival ends the same. A credit of an amount or of a down payment takes back no quantity
    and is recorded without an announcement.
    """
    found = _ours(order, order_id, deal_id)
    if isinstance(found, Ignored):
        return found
    order = found
    if credit.credit_note_id in order.credit_notes:
        return Ignored(
            "credit_known", f"credit note {credit.credit_note_number} was recorded already"
        )
    counted, stray = _by_order_line(order, credit.lines)
    credited = replace(
        order,
        credited=_added(order.credited, counted),
        credit_notes=order.credit_notes | {credit.credit_note_id},
        updated_at=now,
    ).settled()
    return Billed(credited, credit.credit_note_id, _moved(order, credited), stray)


def mark_invoice_paid(
    orders: Iterable[Order], *, deal_id: str, invoice_id: UUID, now: datetime
) -> InvoiceMarkedPaid | Ignored:
    """Mark the invoice paid on whichever of the deal's orders it was posted for.

    invoice.paid names no order, only the invoice and (as its key) the deal, so the order is the
    one of the deal that recorded that invoice. Any payment counts, partial too. The mark is a
    record for whoever reads the order; it holds nothing back (a canceled order's invoice is
    credited by invoice_svc, and the money becomes a refund due there). A second payment
    changes nothing, and a payment read before its invoice.posted (another topic) is ignored.
    """
    candidates = [order for order in orders if order.deal_id == deal_id]
    if not candidates:
        return Ignored("unknown_order", f"no order on deal {deal_id}")
    for order in candidates:
        for index, ref in enumerate(order.invoices):
            if ref.invoice_id != invoice_id:
                continue
            if ref.paid:
                return Ignored("paid_known", f"invoice {ref.invoice_number} is marked paid already")
            marked = replace(ref, paid=True)
            invoices = (*order.invoices[:index], marked, *order.invoices[index + 1 :])
            return InvoiceMarkedPaid(replace(order, invoices=invoices, updated_at=now), marked)
    # Invoiced by another system for an order made elsewhere, or read before its invoice.posted.
    return Ignored("unknown_invoice", f"no order of deal {deal_id} has invoice {invoice_id}")


def _ours(order: Order | None, order_id: UUID, deal_id: str) -> Order | Ignored:
    if order is None:
        # It may be for an order created elsewhere (another system publishing the same contract).
        return Ignored("unknown_order", f"no order {order_id}")
    if order.deal_id != deal_id:
        return Ignored("deal_mismatch", f"order {order_id} belongs to deal {order.deal_id}")
    return order


def _by_order_line(
    order: Order, lines: Iterable[tuple[int, Decimal]]
) -> tuple[dict[int, Decimal], tuple[int, ...]]:
    """The quantities per line of the order, summed; and the line numbers it does not have."""
    known = {line.line_no for line in order.lines}
    counted: dict[int, Decimal] = {}
    stray: set[int] = set()
    for line_no, quantity in lines:
        if line_no in known:
            counted[line_no] = counted.get(line_no, Decimal(0)) + quantity
        else:
            stray.add(line_no)
    return counted, tuple(sorted(stray))


def _added(totals: Mapping[int, Decimal], more: Mapping[int, Decimal]) -> Mapping[int, Decimal]:
    merged = dict(totals)
    for line_no, quantity in more.items():
        merged[line_no] = merged.get(line_no, Decimal(0)) + quantity
    return MappingProxyType(merged)


def _moved(before: Order, after: Order) -> bool:
    """Whether what `order.invoiced` says (status, invoiced quantity per line) changed."""

    def view(order: Order) -> tuple[object, ...]:
        return (order.billing_status, *(order.invoiced_of(line.line_no) for line in order.lines))

    return view(before) != view(after)
