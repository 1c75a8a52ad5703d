"""Orders as the ERP names them: its own order number (order.acknowledged), the names an ERP
document gives its order (salesflow's id or number, the ERP's number), and a payment that names
an order instead of its invoices.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

from services.invoice_svc.domain.decisions.books import RECORD_PAYMENT
from services.invoice_svc.domain.decisions.outcomes import Refusal
from services.invoice_svc.domain.model import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceState,
    Order,
)
from services.invoice_svc.domain.parties import CustomerDetails

# (invoice, how it was named, amount): what `billing.record_payment` takes.
Allocation = tuple[Invoice | None, str, Decimal]


def acknowledge(order: Order, erp_order_number: str) -> Order | None:
    """The order with the ERP's number, or None when it carries that number already.

    order_svc accepts one ERP number per order (another one is refused there), so a different
    number here can only be a correction published by another producer: the latest one wins.
    """
    if order.erp_order_number == erp_order_number:
        return None
    return replace(order, erp_order_number=erp_order_number)


def corrected(
    order: Order, customer_details: CustomerDetails | None, customer_po: str | None
) -> Order | None:
    """The order with the corrections of its resubmission (where it goes, the customer's PO):
    the invoices posted from now on carry them; None when nothing changed. Lines and totals
    cannot change on a resubmission (order_svc sends the same document again)."""
    if (order.customer_details, order.customer_po) == (customer_details, customer_po):
        return None
    return replace(order, customer_details=customer_details, customer_po=customer_po)


def named_order(command: str, ref: str, found: Sequence[Order | None]) -> Order | Refusal | None:
    """The order several names of one command found (None: none of them found one yet).

    Names that find different orders are refused (`order_mismatch`): which one was meant is not
    for this service to guess. A name that finds nothing beside one that does is fine (the
    order may not be acknowledged here yet).
    """
    orders = {order.order_id: order for order in found if order is not None}
    if len(orders) > 1:
        numbers = sorted(order.order_number for order in orders.values())
        return Refusal(command, "order_mismatch", f"the names given find orders {numbers}", ref)
    return next(iter(orders.values()), None)


def order_payment(
    order: Order | None,
    invoices: Iterable[Invoice],
    *,
    order_ref: str,
    deal_id: str,
    amount: Decimal,
    recorded_on: frozenset[UUID],
) -> list[Allocation] | Refusal:
    """Spread a payment that names an order over the order's open standard invoices, oldest due
    first (then oldest issued, then by number), each up to its balance.

    Money beyond all of them goes onto the last one (the newest due, or, none being open, the
    newest invoice), where `record_payment`'s overpayment rules take it: refused, or moved to
    customer credit. Down payment invoices are left to payments that name them, and credited
    ones ask nothing. A payment id seen already answers with the invoices it was recorded on,
    so that a retry is a no-op there (or, on another order's invoices, `payment_id_reused`).
    """
    if order is None:
        return Refusal(RECORD_PAYMENT, "unknown_order", f"no order {order_ref}", order_ref)
    if order.deal_id != deal_id:
        return Refusal(
            RECORD_PAYMENT,
            "deal_mismatch",
            f"order {order.order_number} belongs to another deal",
            order_ref,
        )
    of_order = [invoice for invoice in invoices if invoice.order_id == order.order_id]
    if recorded_on and recorded_on <= {invoice.invoice_id for invoice in of_order}:
        return [(i, str(i.invoice_id), ZERO) for i in of_order if i.invoice_id in recorded_on]
    payable = sorted(
        (
            invoice
            for invoice in of_order
            if invoice.kind is InvoiceKind.STANDARD and invoice.state is not InvoiceState.CANCELED
        ),
        key=lambda i: (i.due_date, i.issue_date, i.invoice_number),
    )
    if not payable:
        return Refusal(
            RECORD_PAYMENT,
            "no_invoice",
            f"order {order.order_number} has no invoice a payment can settle",
            order_ref,
        )
    open_ = [invoice for invoice in payable if invoice.balance_due > 0]
    allocations: list[Allocation] = []
    left = amount
    for invoice in open_:
        if left <= 0:
            break
        part = min(left, invoice.balance_due)
        allocations.append((invoice, invoice.invoice_number, part))
        left -= part
    if left > 0:
        # Merged with that invoice's part by `record_payment`, which then judges the excess.
        last = open_[-1] if open_ else payable[-1]
        allocations.append((last, last.invoice_number, left))
    return allocations
