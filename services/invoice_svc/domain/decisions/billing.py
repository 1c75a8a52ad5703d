"""invoice_svc's decisions: native posting, ERP invoices, payments, cancellations.

Pure: standard library and `contracts.money` only; time, ids and the number counter are passed
in. Decisions take values and return the new aggregate plus what happened (`Posted`, `Held`,
`Paid`, `Cancelled`, `OrderCancellation`), `Unchanged` when a redelivered fact has nothing left
to do, or a `Refusal` that says why a command does not fit. Refusals are answers, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from contracts import money
from services.invoice_svc.domain.model import (
    ExternalClaim,
    Invoice,
    InvoiceCounter,
    InvoiceSource,
    InvoiceState,
    InvoicingMode,
    Order,
    Payment,
    PaymentStatus,
    due_date,
    invoice_id_for,
    invoice_number,
)

REGISTER = "invoice.register_external"
RECORD_PAYMENT = "invoice.record_payment"
CANCEL = "invoice.cancel"
ORDER_CONFIRMED = "order.confirmed"


@dataclass(frozen=True, slots=True)
class Posted:
    invoice: Invoice
    counter: InvoiceCounter | None = None  # set for a native invoice: the number it consumed
    claim: ExternalClaim | None = None  # set for an external invoice


@dataclass(frozen=True, slots=True)
class Held:
    """An ERP invoice whose order is not known yet: kept until the order arrives."""

    claim: ExternalClaim


@dataclass(frozen=True, slots=True)
class Paid:
    invoice: Invoice
    payment: Payment


@dataclass(frozen=True, slots=True)
class Cancelled:
    invoice: Invoice
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCancellation:
    """The order is marked cancelled; its unpaid invoice is cancelled too, a paid one is kept."""

    order: Order
    cancelled: Cancelled | None
    kept_paid: Invoice | None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A redelivered or already applied fact: nothing to change, nothing to publish."""

    why: str


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    # The refused command's event id when it is not the message being handled (a held ERP
    # invoice refused when its order finally arrives).
    command_event_id: UUID | None = None


def remember_order(existing: Order | None, confirmed: Order) -> Order:
    """The first confirmation wins: a redelivered order.confirmed must not undo a cancellation."""
    return existing if existing is not None else confirmed


def invoice_natively(
    order: Order,
    *,
    existing: Invoice | None,
    counter: InvoiceCounter,
    prefix: str,
    now: datetime,
) -> Posted | Unchanged | Refusal:
    """Post the order's one invoice, numbered by `counter.advance()`, lines and totals checked."""
    order_ref = str(order.order_id)
    if existing is not None:
        return Unchanged(f"order {order_ref} is invoiced already ({existing.invoice_number})")
    if order.cancelled:
        return Unchanged(f"order {order_ref} is cancelled")
    mismatch = _recheck_lines(order)
    if mismatch is not None:
        return Refusal(ORDER_CONFIRMED, "totals_mismatch", mismatch, order_ref)
    issued = now.date()
    advanced = counter.advance()
    invoice = Invoice(
        invoice_id=invoice_id_for(order.order_id),
        invoice_number=invoice_number(prefix, advanced),
        order_id=order.order_id,
        deal_id=order.deal_id,
        source=InvoiceSource.NATIVE,
        external_invoice_id=None,
        currency=order.currency,
        lines=order.lines,
        totals=order.totals,
        payment_terms=order.payment_terms,
        issue_date=issued,
        due_date=due_date(issued, order.payment_terms),
        state=InvoiceState.ACTIVE,
        amount_paid=Decimal(0),
        balance_due=order.totals.grand_total,
        created_at=now,
        updated_at=now,
    )
    return Posted(invoice, counter=advanced)


def register_external(
    claim: ExternalClaim,
    *,
    mode: InvoicingMode,
    order: Order | None,
    registered: Invoice | None,
    held: ExternalClaim | None,
    order_invoice: Invoice | None,
    numbered: Invoice | None,
    now: datetime,
) -> Posted | Held | Unchanged | Refusal:
    """Link an ERP invoice to its order, hold it while the order is unknown, or refuse it.

    The same ERP invoice registered again (under a new event id) is a silent no-op, as the
    contract promises: the ERP retries, and a refusal would read like a failure to its user.
    """
    ref = claim.external_invoice_id
    if mode is not InvoicingMode.EXTERNAL:
        return Refusal(REGISTER, "wrong_mode", "invoices are made natively from orders", ref)
    if registered is not None:
        return Unchanged(f"ERP invoice {ref} is registered as {registered.invoice_id}")
    if held is not None:
        return Unchanged(f"ERP invoice {ref} is held already")
    if order is None:
        return Held(claim)
    return accept_external(
        claim, order=order, order_invoice=order_invoice, numbered=numbered, now=now
    )


def accept_external(
    claim: ExternalClaim,
    *,
    order: Order,
    order_invoice: Invoice | None,
    numbered: Invoice | None,
    now: datetime,
) -> Posted | Refusal:
    """Check an ERP invoice against its (now known) order and post it."""
    ref = claim.external_invoice_id

    def refuse(code: str, detail: str) -> Refusal:
        return Refusal(REGISTER, code, detail, ref, claim.command_event_id)

    if order.cancelled:
        return refuse("order_cancelled", f"order {order.order_number} is cancelled")
    if claim.deal_id != order.deal_id:
        return refuse("deal_mismatch", f"order {order.order_number} belongs to another deal")
    if claim.currency != order.currency:
        return refuse(
            "currency_mismatch", f"invoice in {claim.currency}, order in {order.currency}"
        )
    differences = totals_differences(claim.totals, order.totals)
    if differences:
        return refuse("totals_mismatch", "ERP invoice vs order: " + "; ".join(differences))
    if order_invoice is not None:
        return refuse(
            "order_already_invoiced",
            f"order {order.order_number} is invoiced by {order_invoice.invoice_number}",
        )
    if numbered is not None:
        return refuse(
            "duplicate_invoice_number",
            f"invoice number {claim.invoice_number} is taken by {numbered.invoice_id}",
        )
    invoice = Invoice(
        invoice_id=invoice_id_for(order.order_id),
        invoice_number=claim.invoice_number,
        order_id=order.order_id,
        deal_id=order.deal_id,
        source=InvoiceSource.EXTERNAL,
        external_invoice_id=ref,
        currency=order.currency,
        lines=order.lines,
        totals=claim.totals,
        payment_terms=order.payment_terms,
        issue_date=claim.issue_date,
        due_date=claim.due_date,
        state=InvoiceState.ACTIVE,
        amount_paid=Decimal(0),
        balance_due=claim.totals.grand_total,
        created_at=now,
        updated_at=now,
    )
    return Posted(invoice, claim=claim)


def record_payment(
    invoice: Invoice | None,
    *,
    payment: Payment,
    already_recorded: bool,
    invoice_ref: str,
    deal_id: str,
) -> Paid | Unchanged | Refusal:
    ref = invoice_ref
    if already_recorded:
        # Checked first: the paying system retries with new event ids, and the retry must not
        # be refused as an overpayment because the first attempt settled the balance.
        return Unchanged(f"payment {payment.payment_id} is recorded already")
    if invoice is None:
        return Refusal(RECORD_PAYMENT, "unknown_invoice", f"no invoice {invoice_ref}", ref)
    if invoice.deal_id != deal_id:
        return Refusal(
            RECORD_PAYMENT,
            "deal_mismatch",
            f"invoice {invoice.invoice_number} belongs to another deal",
            ref,
        )
    if invoice.state is InvoiceState.CANCELED:
        return Refusal(
            RECORD_PAYMENT,
            "invoice_cancelled",
            f"invoice {invoice.invoice_number} is cancelled",
            ref,
        )
    if payment.currency != invoice.currency:
        return Refusal(
            RECORD_PAYMENT,
            "currency_mismatch",
            f"payment in {payment.currency}, invoice in {invoice.currency}",
            ref,
        )
    if money.round_money(payment.amount, invoice.currency) != payment.amount:
        return Refusal(
            RECORD_PAYMENT,
            "invalid_amount",
            f"{payment.amount} has more decimals than {invoice.currency} allows",
            ref,
        )
    if payment.amount > invoice.balance_due:
        return Refusal(
            RECORD_PAYMENT,
            "overpayment",
            f"payment {payment.payment_id} of {payment.amount} exceeds the balance due "
            f"{invoice.balance_due}",
            ref,
        )
    paid = invoice.amount_paid + payment.amount
    balance = invoice.totals.grand_total - paid
    status = PaymentStatus.COMPLETE if balance <= 0 else PaymentStatus.PARTIAL
    updated = replace(
        invoice,
        state=InvoiceState.PAID,
        payment_status=status,
        amount_paid=paid,
        balance_due=balance,
        updated_at=payment.recorded_at,
    )
    return Paid(updated, payment)


def cancel_invoice(
    invoice: Invoice | None, *, invoice_ref: str, deal_id: str, reason: str, now: datetime
) -> Cancelled | Refusal:
    if invoice is None:
        return Refusal(CANCEL, "unknown_invoice", f"no invoice {invoice_ref}", invoice_ref)
    if invoice.deal_id != deal_id:
        return Refusal(
            CANCEL,
            "deal_mismatch",
            f"invoice {invoice.invoice_number} belongs to another deal",
            invoice_ref,
        )
    if invoice.state is InvoiceState.CANCELED:
        return Refusal(
            CANCEL,
            "already_cancelled",
            f"invoice {invoice.invoice_number} is cancelled",
            invoice_ref,
        )
    if invoice.has_payments:
        return Refusal(
            CANCEL,
            "has_payments",
            f"invoice {invoice.invoice_number} has payments of {invoice.amount_paid}",
            invoice_ref,
        )
    return _cancelled(invoice, reason, now)


def cancel_order(
    order: Order | None, invoice: Invoice | None, *, reason: str, now: datetime
) -> OrderCancellation | Unchanged:
    """Mark the order cancelled (later ERP invoices for it are refused) and void its invoice.

    A paid or partly paid invoice is left alone: money was received against it, and undoing that
    is a credit note in accounting, not a status change here.
    """
    if order is None:
        return Unchanged("order unknown here (the handler keeps such a cancellation ahead)")
    if order.cancelled:
        return Unchanged(f"order {order.order_number} is cancelled already")
    closed = replace(order, cancelled=True, cancel_reason=reason)
    if invoice is None or invoice.state is InvoiceState.CANCELED:
        return OrderCancellation(closed, None, None)
    if invoice.has_payments:
        return OrderCancellation(closed, None, invoice)
    return OrderCancellation(closed, _cancelled(invoice, f"order cancelled: {reason}", now), None)


def totals_differences(given: money.DocumentTotals, expected: money.DocumentTotals) -> list[str]:
    """Per total, 'name given vs expected (difference d)' where they differ at all."""
    pairs = (
        ("subtotal", given.subtotal, expected.subtotal),
        ("discount_total", given.discount_total, expected.discount_total),
        ("net_total", given.net_total, expected.net_total),
        ("tax_total", given.tax_total, expected.tax_total),
        ("grand_total", given.grand_total, expected.grand_total),
    )
    return [f"{name} {a} vs {b} (difference {a - b})" for name, a, b in pairs if a != b]


def _recheck_lines(order: Order) -> str | None:
    """Re-price every line with the one pricing rule and re-sum: None when all agree to the cent."""
    try:
        priced = [
            money.price_line(
                line.quantity, line.unit_price, line.discount_amount, line.tax_rate, order.currency
            )
            for line in order.lines
        ]
    except money.MoneyError as error:
        return f"a line cannot be priced: {error}"
    for line, amounts in zip(order.lines, priced, strict=True):
        if line.amounts(order.currency) != amounts:
            return f"line {line.line_no} amounts differ from its repricing"
    differences = totals_differences(order.totals, money.sum_totals(priced, order.currency))
    if differences:
        return "order totals vs sum of lines: " + "; ".join(differences)
    return None


def _cancelled(invoice: Invoice, reason: str, now: datetime) -> Cancelled:
    closed = replace(
        invoice,
        state=InvoiceState.CANCELED,
        payment_status=None,
        cancel_reason=reason,
        updated_at=now,
    )
    return Cancelled(closed, reason)
