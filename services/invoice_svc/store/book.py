"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store. Indexes are kept up to date so
later messages of the batch see earlier decisions (two payments of one invoice in one batch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from services.invoice_svc.domain import (
    AccountCredit,
    Billing,
    CreditNote,
    Entry,
    ExternalClaim,
    Invoice,
    InvoiceCounter,
    Numbers,
    Order,
    Payment,
    Refund,
    Remittance,
)


@dataclass(frozen=True, slots=True)
class Touches:
    """The keys one batch's messages touch, so `load` can fetch them in a few queries."""

    order_ids: frozenset[UUID] = frozenset()
    invoice_ids: frozenset[UUID] = frozenset()
    external_ids: frozenset[str] = frozenset()
    invoice_numbers: frozenset[str] = frozenset()
    payment_ids: frozenset[str] = frozenset()
    external_credit_ids: frozenset[str] = frozenset()
    accounts: frozenset[tuple[UUID, str]] = frozenset()
    refund_ids: frozenset[str] = frozenset()
    application_ids: frozenset[str] = frozenset()
    # Orders named by salesflow's number or the ERP's (ERP invoices, payments, acknowledgements).
    order_numbers: frozenset[str] = frozenset()
    erp_order_numbers: frozenset[str] = frozenset()
    # A tick: the invoices still asking for money that were due before `due_before` and may
    # have a follow-up (not yet announced overdue, or below `dunning_levels`).
    due_before: date | None = None
    # A tick: the held ERP invoices received before this and not alerted about yet.
    held_received_before: datetime | None = None
    dunning_levels: int = 0
    counter_year: int | None = None  # locks the invoice counter
    credit_counter_year: int | None = None  # locks the credit note counter


@dataclass
class InvoiceBook:
    orders: dict[UUID, Order] = field(default_factory=dict)
    invoices: dict[UUID, Invoice] = field(default_factory=dict)
    held: dict[str, ExternalClaim] = field(default_factory=dict)
    # payments read before what they name (payment id -> the payment and its names)
    held_payments: dict[str, Remittance] = field(default_factory=dict)
    counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    credit_counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    credits: dict[tuple[UUID, str], AccountCredit] = field(default_factory=dict)
    # payment id -> the invoices it was recorded on
    payments_seen: dict[str, set[UUID]] = field(default_factory=lambda: defaultdict(set))
    notes: dict[UUID, CreditNote] = field(default_factory=dict)
    refunds_seen: set[str] = field(default_factory=set)
    applications_seen: set[str] = field(default_factory=set)
    # order.cancelled read before its order.confirmed: order id -> (deal, reason, when, shipped)
    cancelled_ahead: dict[UUID, tuple[str, str, datetime, dict[int, Decimal]]] = field(
        default_factory=dict
    )
    # order.fulfilled read before its order.confirmed: order id -> (deal, latest shipment ref,
    # shipped totals, when)
    shipped_ahead: dict[UUID, tuple[str, str, dict[int, Decimal], datetime]] = field(
        default_factory=dict
    )
    new_shipped_ahead: set[UUID] = field(default_factory=set)
    applied_shipped_ahead: set[UUID] = field(default_factory=set)
    # order.acknowledged read before its order.confirmed: order id -> (deal, ERP number, when)
    acknowledged_ahead: dict[UUID, tuple[str, str, datetime]] = field(default_factory=dict)
    new_acknowledged_ahead: set[UUID] = field(default_factory=set)
    applied_acknowledged_ahead: set[UUID] = field(default_factory=set)
    changed_orders: dict[UUID, Order] = field(default_factory=dict)
    new_invoice_ids: set[UUID] = field(default_factory=set)
    changed_invoices: dict[UUID, Invoice] = field(default_factory=dict)
    new_notes: list[CreditNote] = field(default_factory=list)
    new_payments: list[tuple[UUID, Payment]] = field(default_factory=list)
    changed_credits: set[tuple[UUID, str]] = field(default_factory=set)
    new_refunds: list[Refund] = field(default_factory=list)
    new_applications: list[tuple[str, UUID, UUID, str, Decimal, datetime]] = field(
        default_factory=list
    )
    new_entries: list[Entry] = field(default_factory=list)
    new_held: dict[str, ExternalClaim] = field(default_factory=dict)
    # Held ERP invoices changed in place (alerted about), still held.
    changed_held: dict[str, ExternalClaim] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)
    new_held_payments: dict[str, Remittance] = field(default_factory=dict)
    released_payments: set[str] = field(default_factory=set)
    new_cancelled_ahead: set[UUID] = field(default_factory=set)
    applied_cancelled_ahead: set[UUID] = field(default_factory=set)
    changed_counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    changed_credit_counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    _by_order: dict[UUID, list[UUID]] = field(default_factory=lambda: defaultdict(list))
    _by_external: dict[str, UUID] = field(default_factory=dict)
    _by_number: dict[str, UUID] = field(default_factory=dict)
    _notes_by_ref: dict[tuple[UUID, str], UUID] = field(default_factory=dict)
    _notes_by_external: dict[str, UUID] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for invoice in self.invoices.values():
            self._index(invoice)

    # -- loading ---------------------------------------------------------------------------

    def known_invoice(self, invoice: Invoice) -> None:
        self.invoices[invoice.invoice_id] = invoice
        self._index(invoice)

    def known_note(self, note: CreditNote) -> None:
        self.notes[note.credit_note_id] = note
        if note.credit_ref is not None:
            self._notes_by_ref[(note.invoice_id, note.credit_ref)] = note.credit_note_id
        if note.external_credit_note_id is not None:
            self._notes_by_external[note.external_credit_note_id] = note.credit_note_id

    # -- reading ---------------------------------------------------------------------------

    def order(self, order_id: UUID) -> Order | None:
        return self.orders.get(order_id)

    def order_by_number(self, order_number: str | None) -> Order | None:
        if order_number is None:
            return None
        return next((o for o in self.orders.values() if o.order_number == order_number), None)

    def order_by_erp_number(self, erp_order_number: str | None) -> Order | None:
        if erp_order_number is None:
            return None
        found = (o for o in self.orders.values() if o.erp_order_number == erp_order_number)
        return next(found, None)

    def invoice(self, invoice_id: UUID) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def invoices_of_order(self, order_id: UUID) -> list[Invoice]:
        return [self.invoices[i] for i in self._by_order.get(order_id, [])]

    def down_payment_of(self, order: Order) -> Invoice | None:
        dp = order.down_payment
        return self.invoices.get(dp.invoice_id) if dp is not None else None

    def invoice_by_external(self, external_invoice_id: str) -> Invoice | None:
        found = self._by_external.get(external_invoice_id)
        return None if found is None else self.invoices.get(found)

    def invoice_by_number(self, number: str) -> Invoice | None:
        found = self._by_number.get(number)
        return None if found is None else self.invoices.get(found)

    def note_by_ref(self, invoice_id: UUID, ref: str) -> CreditNote | None:
        found = self._notes_by_ref.get((invoice_id, ref))
        return None if found is None else self.notes.get(found)

    def note_by_external(self, external_id: str) -> CreditNote | None:
        found = self._notes_by_external.get(external_id)
        return None if found is None else self.notes.get(found)

    def held_claim(self, external_invoice_id: str) -> ExternalClaim | None:
        return self.held.get(external_invoice_id)

    def held_for(self, order: Order) -> list[ExternalClaim]:
        """ERP invoices waiting for this order (named by any of its names), oldest first."""
        waiting = [c for c in self.held.values() if c.names(order)]
        return sorted(waiting, key=lambda c: (c.received_at, c.external_invoice_id))

    def held_payment(self, payment_id: str) -> Remittance | None:
        return self.held_payments.get(payment_id)

    def held_payments_for(self, order: Order, external_ids: Iterable[str]) -> list[Remittance]:
        """Payments waiting for this order (named by its number or the ERP's) or for one of
        `external_ids` (ERP invoices of it, posted or refused just now), oldest first."""
        invoices = frozenset(external_ids)
        waiting = [
            r
            for r in self.held_payments.values()
            if r.names(order) or r.external_invoice_ids & invoices
        ]
        return sorted(waiting, key=lambda r: (r.received_at, r.payment.payment_id))

    def numbers(self, year: int, prefix: str, credit_prefix: str) -> Numbers:
        """The year's counters as loaded (absent when the batch did not lock them)."""
        return Numbers(
            prefix, credit_prefix, self.counters.get(year), self.credit_counters.get(year)
        )

    # -- writing ---------------------------------------------------------------------------

    def put_invoice(self, invoice: Invoice) -> None:
        """An invoice changed in place (not a new document)."""
        self.invoices[invoice.invoice_id] = invoice
        self.changed_invoices[invoice.invoice_id] = invoice

    def put_alerted(self, claim: ExternalClaim) -> None:
        self.held[claim.external_invoice_id] = claim
        self.changed_held[claim.external_invoice_id] = claim

    def put_order(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.changed_orders[order.order_id] = order

    def record(self, billing: Billing, numbers: Numbers | None = None) -> None:
        """Take in everything one decision changed."""
        if billing.order is not None:
            self.put_order(billing.order)
        for invoice_id, invoice in billing.invoices.items():
            if invoice_id in billing.posted:
                self.new_invoice_ids.add(invoice_id)
            self.invoices[invoice_id] = invoice
            self.changed_invoices[invoice_id] = invoice
            self._index(invoice)
        for note in billing.notes:
            self.known_note(note)
            self.new_notes.append(note)
        for invoice_id, payment in billing.payments:
            self.payments_seen[payment.payment_id].add(invoice_id)
            self.new_payments.append((invoice_id, payment))
        for key in billing.changed_credits:
            self.credits[key] = billing.customer_credit[key]
            self.changed_credits.add(key)
        for refund in billing.refunds:
            self.refunds_seen.add(refund.refund_id)
            self.new_refunds.append(refund)
        self.new_entries.extend(billing.entries)
        if numbers is not None:
            if "invoices" in numbers.used and numbers.invoices is not None:
                self.counters[numbers.invoices.year] = numbers.invoices
                self.changed_counters[numbers.invoices.year] = numbers.invoices
            if "credit_notes" in numbers.used and numbers.credit_notes is not None:
                self.credit_counters[numbers.credit_notes.year] = numbers.credit_notes
                self.changed_credit_counters[numbers.credit_notes.year] = numbers.credit_notes

    def record_application(
        self,
        application_id: str,
        account_id: UUID,
        invoice_id: UUID,
        currency: str,
        amount: Decimal,
        now: datetime,
    ) -> None:
        self.applications_seen.add(application_id)
        self.new_applications.append(
            (application_id, account_id, invoice_id, currency, amount, now)
        )

    def hold(self, claim: ExternalClaim) -> None:
        self.held[claim.external_invoice_id] = claim
        self.new_held[claim.external_invoice_id] = claim

    def release(self, external_invoice_id: str) -> None:
        self.held.pop(external_invoice_id, None)
        # Held and released within one batch: it never reaches the table.
        if self.new_held.pop(external_invoice_id, None) is None:
            self.released.add(external_invoice_id)

    def hold_payment(self, remittance: Remittance) -> None:
        self.held_payments[remittance.payment.payment_id] = remittance
        self.new_held_payments[remittance.payment.payment_id] = remittance

    def release_payment(self, payment_id: str) -> None:
        self.held_payments.pop(payment_id, None)
        # Held and settled within one batch: it never reaches the table.
        if self.new_held_payments.pop(payment_id, None) is None:
            self.released_payments.add(payment_id)

    def cancel_ahead(
        self,
        order_id: UUID,
        deal_id: str,
        reason: str,
        now: datetime,
        shipped: dict[int, Decimal],
    ) -> None:
        self.cancelled_ahead[order_id] = (deal_id, reason, now, shipped)
        self.new_cancelled_ahead.add(order_id)

    def take_cancel_ahead(self, order_id: UUID) -> tuple[str, dict[int, Decimal]] | None:
        """The reason and shipped quantities of a cancellation that came before its order."""
        found = self.cancelled_ahead.pop(order_id, None)
        if found is None:
            return None
        if order_id in self.new_cancelled_ahead:
            self.new_cancelled_ahead.discard(order_id)
        else:
            self.applied_cancelled_ahead.add(order_id)
        return found[1], found[3]

    def ship_ahead(
        self,
        order_id: UUID,
        deal_id: str,
        shipment_ref: str,
        shipped: dict[int, Decimal],
        now: datetime,
    ) -> None:
        """Shipped totals only grow: keep the largest per line, and the latest shipment."""
        known = self.shipped_ahead.get(order_id)
        totals = dict(known[2]) if known else {}
        for line_no, quantity in shipped.items():
            totals[line_no] = max(totals.get(line_no, Decimal(0)), quantity)
        self.shipped_ahead[order_id] = (deal_id, shipment_ref, totals, now)
        self.new_shipped_ahead.add(order_id)
        self.applied_shipped_ahead.discard(order_id)

    def take_shipped_ahead(self, order_id: UUID) -> tuple[str, dict[int, Decimal]] | None:
        """The latest shipment ref and shipped totals that came before the order."""
        found = self.shipped_ahead.pop(order_id, None)
        if found is None:
            return None
        if order_id in self.new_shipped_ahead:
            self.new_shipped_ahead.discard(order_id)
        else:
            self.applied_shipped_ahead.add(order_id)
        return found[1], found[2]

    def acknowledge_ahead(
        self, order_id: UUID, deal_id: str, erp_order_number: str, now: datetime
    ) -> None:
        self.acknowledged_ahead[order_id] = (deal_id, erp_order_number, now)
        self.new_acknowledged_ahead.add(order_id)
        self.applied_acknowledged_ahead.discard(order_id)

    def take_acknowledged_ahead(self, order_id: UUID) -> str | None:
        """The ERP number of an acknowledgement that came before the order."""
        found = self.acknowledged_ahead.pop(order_id, None)
        if found is None:
            return None
        if order_id in self.new_acknowledged_ahead:
            self.new_acknowledged_ahead.discard(order_id)
        else:
            self.applied_acknowledged_ahead.add(order_id)
        return found[1]

    def _index(self, invoice: Invoice) -> None:
        of_order = self._by_order[invoice.order_id]
        if invoice.invoice_id not in of_order:
            of_order.append(invoice.invoice_id)
        self._by_number[invoice.invoice_number] = invoice.invoice_id
        if invoice.external_invoice_id is not None:
            self._by_external[invoice.external_invoice_id] = invoice.invoice_id
