"""The bookkeeping every billing decision shares: documents numbered, money moved between
invoices and the customer's credit, and the receivable entries that mirror each change.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from contracts import money
from services.invoice_svc.domain.model import (
    ZERO,
    CreditNote,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceSource,
    InvoiceState,
    Line,
    LineCredit,
    Order,
    Payment,
    add_rates,
    by_rate,
    credit_note_id_for,
    due_date,
    invoice_number,
)

# Refs salesflow gives its own credit notes and credit applications start with this prefix,
# which requesters may not use (refused `reserved_ref`): theirs can never collide with one.
INTERNAL = "salesflow:"

ORDER_CONFIRMED = "order.confirmed"
REGISTER = "invoice.register_external"
RECORD_PAYMENT = "invoice.record_payment"
CANCEL = "invoice.cancel"
CREDIT = "invoice.credit"
REGISTER_CREDIT = "invoice.register_external_credit"
RECORD_REFUND = "invoice.record_refund"
APPLY_CREDIT = "invoice.apply_credit"

CustomerCredits = dict[tuple[UUID, str], "AccountCredit"]


class EntryKind(StrEnum):
    """What changed a receivable. `to_credit` and `credit_applied` come in pairs (one on the
    invoice, one on the account's credit) that sum to zero: they move money, they change no
    total."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    REFUND = "refund"
    TO_CREDIT = "to_credit"
    CREDIT_APPLIED = "credit_applied"


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """Money a customer has with us beyond what its invoices ask, per currency."""

    account_id: UUID
    currency: str
    account_name: str
    balance: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Entry:
    """One change of what an account owes (+) or has paid or been credited (-)."""

    account_id: UUID
    currency: str
    kind: EntryKind
    document_id: str
    document_number: str
    invoice_id: UUID | None  # None: the account's customer credit
    amount: Decimal
    occurred_on: date
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class RefundDueFact:
    """Money moved to a customer's credit that is not applied at once: to pay back."""

    credit: AccountCredit  # after the move
    amount: Decimal
    cause: str  # contracts.billing.RefundCause
    invoice_id: UUID
    payment_id: str | None = None
    credit_note_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    account_id: UUID
    currency: str
    amount: Decimal
    refunded_at: datetime
    method: str | None


@dataclass
class Numbers:
    """The year's invoice and credit note counters, advanced as a decision issues documents."""

    prefix: str
    credit_prefix: str
    invoices: InvoiceCounter | None = None
    credit_notes: InvoiceCounter | None = None
    used: set[str] = field(default_factory=set)

    def next_invoice(self) -> str:
        if self.invoices is None:
            raise LookupError("the invoice counter was not loaded")
        self.invoices = self.invoices.advance()
        self.used.add("invoices")
        return invoice_number(self.prefix, self.invoices)

    def next_credit_note(self) -> str:
        if self.credit_notes is None:
            raise LookupError("the credit note counter was not loaded")
        self.credit_notes = self.credit_notes.advance()
        self.used.add("credit_notes")
        return invoice_number(self.credit_prefix, self.credit_notes)


@dataclass
class Billing:
    """Everything one decision changed, booked as it happens: documents, money moved between
    invoices and customer credit, and the receivable entries that mirror each change."""

    customer_credit: dict[tuple[UUID, str], AccountCredit]
    order: Order | None = None
    invoices: dict[UUID, Invoice] = field(default_factory=dict)
    posted: list[UUID] = field(default_factory=list)
    notes: list[CreditNote] = field(default_factory=list)
    payments: list[tuple[UUID, Payment]] = field(default_factory=list)
    applications: list[tuple[UUID, str, Decimal]] = field(default_factory=list)
    cancelled: list[tuple[UUID, str, UUID]] = field(default_factory=list)
    refunds_due: list[RefundDueFact] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    changed_credits: set[tuple[UUID, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        # A decision may still refuse after it started booking: it works on its own copy.
        self.customer_credit = dict(self.customer_credit)

    def latest(self, invoice: Invoice) -> Invoice:
        return self.invoices.get(invoice.invoice_id, invoice)

    def credit(self, account_id: UUID, currency: str, name: str) -> AccountCredit:
        key = (account_id, currency)
        return self.customer_credit.get(key) or AccountCredit(account_id, currency, name)

    def post(self, invoice: Invoice) -> None:
        self.invoices[invoice.invoice_id] = invoice
        self.posted.append(invoice.invoice_id)
        self._entry(
            invoice,
            EntryKind.INVOICE,
            str(invoice.invoice_id),
            invoice.invoice_number,
            invoice.totals.grand_total,
            invoice.issue_date,
            due=invoice.due_date,
        )

    def book_note(self, note: CreditNote, *, now: datetime, refund: bool = True) -> Decimal:
        """A credit note against its invoice; what the invoice no longer asks of money received
        moves to customer credit (a refund due when `refund`). Returns the amount moved."""
        invoice = self.invoices[note.invoice_id]
        lines = dict(invoice.credited_lines)
        for line_no, quantity in note.order_lines:
            line = next(x for x in note.lines if x.line_no == line_no)
            done = lines.get(line_no) or LineCredit(ZERO, money.zero_amounts(invoice.currency))
            lines[line_no] = LineCredit(
                done.quantity + quantity,
                money.add_amounts(done.amounts, line.amounts(invoice.currency)),
            )
        invoice = replace(
            invoice,
            amount_credited=invoice.amount_credited + note.totals.grand_total,
            credited_lines=lines,
            credited_rates=add_rates(invoice.credited_rates, by_rate(note.lines)),
        )
        self.notes.append(note)
        self._entry(
            invoice,
            EntryKind.CREDIT_NOTE,
            str(note.credit_note_id),
            note.credit_note_number,
            -note.totals.grand_total,
            note.issue_date,
        )
        cause = "credited_after_payment" if refund else None
        return self._settle(
            invoice,
            now,
            cause,
            note.credit_note_id,
            None,
            (str(note.credit_note_id), note.credit_note_number),
            note.issue_date,
        )

    def book_payment(self, invoice: Invoice, payment: Payment, *, cause: str) -> Decimal:
        """A payment on an invoice; money beyond what it asks moves to customer credit."""
        invoice = replace(
            self.latest(invoice), amount_paid=self.latest(invoice).amount_paid + payment.amount
        )
        self.payments.append((invoice.invoice_id, payment))
        on = payment.paid_at.date()
        self._entry(
            invoice, EntryKind.PAYMENT, payment.payment_id, payment.payment_id, -payment.amount, on
        )
        return self._settle(
            invoice,
            payment.recorded_at,
            cause,
            None,
            payment.payment_id,
            (payment.payment_id, payment.payment_id),
            on,
        )

    def apply(self, invoice: Invoice, amount: Decimal, ref: str, now: datetime) -> None:
        """Customer credit settles `amount` of the invoice."""
        invoice = self.latest(invoice)
        invoice = replace(invoice, credit_applied=invoice.credit_applied + amount)
        self.invoices[invoice.invoice_id] = invoice.settled(now)
        self._move(invoice, -amount, EntryKind.CREDIT_APPLIED, (ref, ref), now.date())
        self.applications.append((invoice.invoice_id, ref, amount))

    def refund(self, refund: Refund, name: str) -> AccountCredit:
        credit = self.credit(refund.account_id, refund.currency, name)
        credit = replace(credit, balance=credit.balance - refund.amount)
        self._keep(credit)
        self.refunds.append(refund)
        self.entries.append(
            Entry(
                refund.account_id,
                refund.currency,
                EntryKind.REFUND,
                refund.refund_id,
                refund.refund_id,
                None,
                refund.amount,
                refund.refunded_at.date(),
            )
        )
        return credit

    def announce_refund(self, invoice: Invoice, amount: Decimal, cause: str) -> None:
        """Money already held as customer credit is due back (after what a decision applied)."""
        credit = self.credit(invoice.account_id, invoice.currency, invoice.account_name)
        self.refunds_due.append(RefundDueFact(credit, amount, cause, invoice.invoice_id))

    def _settle(
        self,
        invoice: Invoice,
        now: datetime,
        cause: str | None,
        note_id: UUID | None,
        payment_id: str | None,
        document: tuple[str, str],
        on: date,
    ) -> Decimal:
        moved = max(ZERO, -invoice.balance_due)
        if moved > 0:
            invoice = replace(invoice, moved_to_credit=invoice.moved_to_credit + moved)
            credit = self._move(invoice, moved, EntryKind.TO_CREDIT, document, on)
            if cause is not None:
                self.refunds_due.append(
                    RefundDueFact(credit, moved, cause, invoice.invoice_id, payment_id, note_id)
                )
        self.invoices[invoice.invoice_id] = invoice.settled(now)
        return moved

    def _move(
        self,
        invoice: Invoice,
        amount: Decimal,
        kind: EntryKind,
        document: tuple[str, str],
        on: date,
    ) -> AccountCredit:
        """`amount` more asked on the invoice and held less as customer credit (or the reverse,
        negative): a pair of entries that sum to zero."""
        self._entry(invoice, kind, document[0], document[1], amount, on)
        self.entries.append(
            Entry(
                invoice.account_id,
                invoice.currency,
                kind,
                document[0],
                document[1],
                None,
                -amount,
                on,
            )
        )
        credit = self.credit(invoice.account_id, invoice.currency, invoice.account_name)
        credit = replace(credit, balance=credit.balance + amount)
        self._keep(credit)
        return credit

    def _keep(self, credit: AccountCredit) -> None:
        key = (credit.account_id, credit.currency)
        self.customer_credit[key] = credit
        self.changed_credits.add(key)

    def _entry(
        self,
        invoice: Invoice,
        kind: EntryKind,
        doc: str,
        number: str,
        amount: Decimal,
        on: date,
        *,
        due: date | None = None,
    ) -> None:
        self.entries.append(
            Entry(
                invoice.account_id,
                invoice.currency,
                kind,
                doc,
                number,
                invoice.invoice_id,
                amount,
                on,
                due,
            )
        )


def credit_note_of(
    invoice: Invoice,
    lines: tuple[Line, ...],
    numbers: Numbers | None,
    reason: str,
    ref: str,
    now: datetime,
    *,
    number: str | None = None,
    external_id: str | None = None,
    order_lines: tuple[tuple[int, Decimal], ...] = (),
    totals: money.DocumentTotals | None = None,
) -> CreditNote:
    currency = invoice.currency
    return CreditNote(
        credit_note_id=credit_note_id_for(invoice.invoice_id, ref),
        credit_note_number=number or (numbers.next_credit_note() if numbers else ""),
        invoice_id=invoice.invoice_id,
        order_id=invoice.order_id,
        deal_id=invoice.deal_id,
        account_id=invoice.account_id,
        source=InvoiceSource.EXTERNAL if external_id else InvoiceSource.NATIVE,
        external_credit_note_id=external_id,
        credit_ref=None if external_id else ref,
        currency=currency,
        lines=lines,
        totals=totals or money.sum_totals((x.amounts(currency) for x in lines), currency),
        reason=reason,
        issue_date=now.date(),
        created_at=now,
        order_lines=order_lines,
    )


def book_credit_note(
    billing: Billing, invoice: Invoice, note: CreditNote, now: datetime, *, refund: bool = True
) -> Decimal:
    """Book the note against its invoice; the order takes back the quantities it credits."""
    billing.invoices.setdefault(invoice.invoice_id, invoice)
    if note.order_lines and billing.order is not None:
        billed = dict(billing.order.billed)
        currency = billing.order.currency
        for line_no, quantity in note.order_lines:
            done = billed[line_no]
            piece = next(x for x in note.lines if x.line_no == line_no).amounts(currency)
            credited = done.credited_amounts or money.zero_amounts(currency)
            billed[line_no] = replace(
                done,
                credited_quantity=done.credited_quantity + quantity,
                credited_amounts=money.add_amounts(credited, piece),
            )
        billing.order = replace(billing.order, billed=billed)
    return billing.book_note(note, now=now, refund=refund)


def invoice_of(
    order: Order,
    invoice_id: UUID,
    lines: tuple[Line, ...],
    numbers: Numbers | None,
    now: datetime,
    *,
    number: str | None = None,
    external_id: str | None = None,
    kind: InvoiceKind = InvoiceKind.STANDARD,
) -> Invoice:
    issued = now.date()
    return Invoice(
        invoice_id=invoice_id,
        invoice_number=number or (numbers.next_invoice() if numbers else ""),
        order_id=order.order_id,
        deal_id=order.deal_id,
        account_id=order.account_id,
        account_name=order.account_name,
        source=InvoiceSource.EXTERNAL if external_id else InvoiceSource.NATIVE,
        external_invoice_id=external_id,
        currency=order.currency,
        lines=lines,
        totals=money.sum_totals((x.amounts(order.currency) for x in lines), order.currency),
        payment_terms=order.payment_terms,
        issue_date=issued,
        due_date=due_date(issued, order.payment_terms),
        state=InvoiceState.ACTIVE,
        created_at=now,
        updated_at=now,
        kind=kind,
    )
