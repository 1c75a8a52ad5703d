"""Invoices and payments: native posting from orders, ERP invoices, payments, cancellation.

Pure: standard library and `contracts.money` only; time, ids and the number counter are passed
in. Decisions take values and return the new aggregate plus what happened (`Posted`, `Held`,
`Paid`, `Cancelled`, `OrderCancellation`), `Unchanged` when a redelivered fact has nothing left
to do, or a `Refusal` that says why a command does not fit. Refusals are answers, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from contracts import money

# Invoice ids are derived from the order id: one invoice per order in either mode, and a replayed
# decision mints the same id.
_ID_NAMESPACE = UUID("2f0c7a9e-4d1b-4e6a-8b3c-5a9d7e1f0c42")

TERM_DAYS: dict[str, int] = {
    "due_on_receipt": 0,
    "net_15": 15,
    "net_30": 30,
    "net_45": 45,
    "net_60": 60,
}

REGISTER = "invoice.register_external"
RECORD_PAYMENT = "invoice.record_payment"
CANCEL = "invoice.cancel"
ORDER_CONFIRMED = "order.confirmed"


class InvoicingMode(StrEnum):
    """Who bills: invoice_svc from the order (native) or the accounting system (external)."""

    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceSource(StrEnum):
    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceState(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELED = "canceled"


class PaymentStatus(StrEnum):
    """Status reason of a Paid invoice (D365): Partial while a balance is due."""

    PARTIAL = "partial"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class InvoicingPolicy:
    mode: InvoicingMode = InvoicingMode.NATIVE
    number_prefix: str = "INV"


@dataclass(frozen=True, slots=True)
class Line:
    """One priced document line, copied unchanged from the order."""

    line_no: int
    sku: str | None
    description: str
    write_in: bool
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_amount: Decimal
    tax_rate: Decimal
    base_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal

    def amounts(self, currency: str) -> money.LineAmounts:
        return money.LineAmounts(
            base=self.base_amount,
            discount=self.discount_amount,
            net=self.net_amount,
            tax=self.tax_amount,
            total=self.total_amount,
            currency=currency,
        )


@dataclass(frozen=True, slots=True)
class Order:
    """What invoice_svc remembers of a confirmed order (and whether it was cancelled since)."""

    order_id: UUID
    order_number: str
    quote_id: UUID
    deal_id: str
    account_id: UUID
    account_name: str
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    payment_terms: str
    confirmed_at: datetime
    cancelled: bool = False
    cancel_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalClaim:
    """An invoice the accounting system says it posted for an order (RegisterExternalInvoice)."""

    external_invoice_id: str
    invoice_number: str
    order_id: UUID
    deal_id: str
    currency: str
    totals: money.DocumentTotals
    issue_date: date
    due_date: date
    command_event_id: UUID
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: UUID
    invoice_number: str
    order_id: UUID
    deal_id: str
    source: InvoiceSource
    external_invoice_id: str | None
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    payment_terms: str
    issue_date: date
    due_date: date
    state: InvoiceState
    amount_paid: Decimal
    balance_due: Decimal
    created_at: datetime
    updated_at: datetime
    payment_status: PaymentStatus | None = None
    cancel_reason: str | None = None

    @property
    def has_payments(self) -> bool:
        # Payments are positive, so any recorded payment shows in the amount paid.
        return self.amount_paid > 0


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    method: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceCounter:
    """The last number given out in one year; advanced only together with a posted invoice."""

    year: int
    last: int

    def advance(self) -> InvoiceCounter:
        return InvoiceCounter(self.year, self.last + 1)


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


def invoice_id_for(order_id: UUID) -> UUID:
    return uuid5(_ID_NAMESPACE, f"invoice:{order_id}")


def invoice_number(prefix: str, counter: InvoiceCounter) -> str:
    return f"{prefix}-{counter.year}-{counter.last:06d}"


def due_date(issue_date: date, payment_terms: str) -> date:
    return issue_date + timedelta(days=TERM_DAYS[payment_terms])


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
        return Unchanged("order unknown here: confirmed orders always arrive first")
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
    return [
        f"{name} {a} vs {b} (difference {a - b})" for name, a, b in pairs if a != b
    ]


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
        invoice, state=InvoiceState.CANCELED, payment_status=None, cancel_reason=reason,
        updated_at=now,
    )
    return Cancelled(closed, reason)
