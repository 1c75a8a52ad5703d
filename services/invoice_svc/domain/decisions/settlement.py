"""invoice_svc's settlements: an order cancelled (what was invoiced and will not ship credited,
the money that frees settling what the order still asks, the rest a refund due), customer
credit paid back (refund) or applied to another invoice.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from contracts import money
from services.invoice_svc.domain.decisions.billing import record_shipment
from services.invoice_svc.domain.decisions.books import (
    APPLY_CREDIT,
    INTERNAL,
    RECORD_REFUND,
    AccountCredit,
    Billing,
    CustomerCredits,
    Numbers,
    Refund,
    book_credit_note,
    credit_note_of,
)
from services.invoice_svc.domain.decisions.credits import CreditRequest, credit_pieces
from services.invoice_svc.domain.decisions.outcomes import Refusal, Unchanged
from services.invoice_svc.domain.model import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoicingMode,
    Order,
    add_rates,
    rate_line,
)


def cancel_order(
    order: Order | None,
    invoices: Sequence[Invoice],
    *,
    shipped: Mapping[int, Decimal],
    reason: str,
    mode: InvoicingMode,
    numbers: Numbers,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Unchanged:
    """The order is closed (later ERP invoices for it are refused); what was invoiced and will
    not ship is credited, the latest invoices first, and the unused down payment with it. In
    external mode the accounting system credits (it owns the documents)."""
    if order is None:
        return Unchanged("order unknown here (the handler keeps such a cancellation ahead)")
    if order.cancelled:
        return Unchanged(f"order {order.order_number} is cancelled already")
    order = record_shipment(replace(order, cancelled=True, cancel_reason=reason), shipped)
    billing = Billing(customer_credit, order=order)
    if mode is InvoicingMode.EXTERNAL:
        return billing
    text = f"order {order.order_number} cancelled: {reason}"
    standard = sorted(
        (
            i
            for i in invoices
            if i.kind is InvoiceKind.STANDARD and i.state is not InvoiceState.CANCELED
        ),
        key=lambda i: (i.created_at, i.invoice_number),
        reverse=True,
    )
    # What was billed and will not ship, per line, taken back from the latest invoices first;
    # one credit note per invoice. Money those credits free goes to what the order still asks
    # for (what shipped) before any of it is announced as a refund due.
    freed = ZERO
    asked: dict[UUID, list[tuple[int, Decimal]]] = {}
    for line in order.lines:
        done = order.billed_of(line)
        excess = done.quantity - done.credited_quantity - order.shipped.get(line.line_no, ZERO)
        for invoice in standard:
            on_it = invoice.line(line.line_no)
            if excess <= 0 or on_it is None:
                continue
            take = min(on_it.quantity - invoice.credited_of(on_it).quantity, excess)
            if take > 0:
                asked.setdefault(invoice.invoice_id, []).append((line.line_no, take))
                excess -= take
    for invoice in standard:
        if invoice.invoice_id not in asked:
            continue
        request = CreditRequest(
            f"{INTERNAL}cancel:{order.order_id}", text, tuple(asked[invoice.invoice_id])
        )
        # Capped: after an amount credit, the lines that will not ship may be worth more than
        # the invoice still asks at their tax rate; refusing raised here, and the cancellation
        # could never be processed.
        pieces = credit_pieces(invoice, request, capped=True)
        if isinstance(pieces, str):  # pragma: no cover - sized to what is left above
            raise ValueError(pieces)  # noqa: TRY004 - an impossible refusal, not a wrong type
        lines, order_lines = pieces
        note = credit_note_of(
            invoice, lines, numbers, text, request.ref, now, order_lines=order_lines
        )
        freed += book_credit_note(billing, invoice, note, now, refund=False)
    dp = order.down_payment
    dp_invoice = next(
        (i for i in invoices if i.invoice_id == (dp.invoice_id if dp else None)), None
    )
    if dp is not None and dp_invoice is not None and dp.left():
        lines = tuple(
            rate_line(n, f"Down payment not used: {text}"[:200], r, *a)
            for n, (r, a) in enumerate(sorted(dp.left().items()), 1)
        )
        note = credit_note_of(
            billing.latest(dp_invoice),
            lines,
            numbers,
            text,
            f"{INTERNAL}cancel:{order.order_id}",
            now,
        )
        billing.order = replace(
            billing.order or order, down_payment=replace(dp, used=add_rates(dp.used, dp.left()))
        )
        freed += book_credit_note(billing, billing.latest(dp_invoice), note, now, refund=False)
    _settle_freed(billing, order, invoices, freed, now)
    return billing


def record_refund(
    credit: AccountCredit | None, refund: Refund, *, done: bool, customer_credit: CustomerCredits
) -> Billing | Unchanged | Refusal:
    """Customer credit paid back; never more than the credit held."""
    if done:
        return Unchanged(f"refund {refund.refund_id} is recorded already")
    if _beyond_minor_unit(refund.amount, refund.currency):
        # As for payments: a fraction of a cent would leave the credit and the receivables
        # off the cent for good.
        return Refusal(
            RECORD_REFUND,
            "invalid_amount",
            f"{refund.amount} has more decimals than {refund.currency} allows",
            refund.refund_id,
        )
    held = credit.balance if credit is not None else ZERO
    if refund.amount > held:
        return Refusal(
            RECORD_REFUND,
            "refund_exceeds_credit",
            f"refund of {refund.amount} {refund.currency}, credit held {held}",
            refund.refund_id,
        )
    billing = Billing(customer_credit)
    assert credit is not None
    billing.refund(refund, credit.account_name)
    return billing


def apply_credit(
    invoice: Invoice | None,
    credit: AccountCredit | None,
    *,
    application_id: str,
    amount: Decimal,
    currency: str,
    account_id: UUID,
    invoice_ref: str,
    done: bool,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Unchanged | Refusal:
    """Customer credit settles part of an invoice of the same account and currency."""
    if application_id.startswith(INTERNAL):
        return Refusal(
            APPLY_CREDIT, "reserved_ref", f"application ids starting {INTERNAL!r} are salesflow's"
        )
    if done:
        return Unchanged(f"credit application {application_id} is recorded already")
    if invoice is None:
        return Refusal(APPLY_CREDIT, "unknown_invoice", f"no invoice {invoice_ref}", invoice_ref)
    if invoice.account_id != account_id or invoice.currency != currency:
        return Refusal(
            APPLY_CREDIT,
            "account_mismatch",
            f"invoice {invoice.invoice_number} is not the account's in {currency}",
            invoice_ref,
        )
    if _beyond_minor_unit(amount, currency):
        # As for payments: a fraction of a cent would leave the invoice, the credit and the
        # receivables off the cent for good.
        return Refusal(
            APPLY_CREDIT,
            "invalid_amount",
            f"{amount} has more decimals than {currency} allows",
            invoice_ref,
        )
    held = credit.balance if credit is not None else ZERO
    if amount > held:
        return Refusal(
            APPLY_CREDIT,
            "exceeds_credit",
            f"{amount} {currency} asked, credit held {held}",
            invoice_ref,
        )
    if amount > invoice.balance_due:
        return Refusal(
            APPLY_CREDIT,
            "exceeds_balance",
            f"{amount} {currency} asked, {invoice.invoice_number} asks {invoice.balance_due}",
            invoice_ref,
        )
    billing = Billing(customer_credit)
    billing.apply(invoice, amount, application_id, now)
    return billing


def _settle_freed(
    billing: Billing, order: Order, invoices: Sequence[Invoice], freed: Decimal, now: datetime
) -> None:
    """Customer credit a cancellation freed settles the order's open invoices, oldest due
    first; what is left is a refund due."""
    for invoice in sorted(
        (billing.latest(i) for i in invoices if i.kind is InvoiceKind.STANDARD),
        key=lambda i: (i.due_date, i.invoice_number),
    ):
        take = min(freed, invoice.balance_due)
        if take > 0:
            billing.apply(invoice, take, f"{INTERNAL}cancel:{invoice.invoice_id}", now)
            freed -= take
    if freed > 0:
        paid = next(
            (billing.latest(i) for i in invoices if billing.latest(i).moved_to_credit > 0),
            billing.latest(invoices[0]),
        )
        billing.announce_refund(paid, freed, "credited_after_payment")


def _beyond_minor_unit(amount: Decimal, currency: str) -> bool:
    return money.round_money(amount, currency) != amount
