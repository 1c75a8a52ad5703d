"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.invoice_svc.domain import (
    ExternalClaim,
    Invoice,
    InvoiceCounter,
    Order,
    Payment,
)


@dataclass(frozen=True, slots=True)
class Touches:
    """The keys one batch's messages touch, so `load` can fetch them in a few queries."""

    order_ids: frozenset[UUID] = frozenset()
    invoice_ids: frozenset[UUID] = frozenset()
    external_ids: frozenset[str] = frozenset()
    invoice_numbers: frozenset[str] = frozenset()
    payment_ids: frozenset[str] = frozenset()
    counter_year: int | None = None


@dataclass
class InvoiceBook:
    """The orders, invoices, payments, held ERP invoices and counters of one batch, and what it
    changed. Indexes are kept up to date so later messages of the batch see earlier decisions."""

    orders: dict[UUID, Order] = field(default_factory=dict)
    invoices: dict[UUID, Invoice] = field(default_factory=dict)
    recorded_payments: set[str] = field(default_factory=set)
    held: dict[str, ExternalClaim] = field(default_factory=dict)
    counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    changed_orders: dict[UUID, Order] = field(default_factory=dict)
    new_invoice_ids: set[UUID] = field(default_factory=set)
    changed_invoices: dict[UUID, Invoice] = field(default_factory=dict)
    new_payments: dict[str, tuple[UUID, Payment]] = field(default_factory=dict)
    new_held: dict[str, ExternalClaim] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)
    changed_counters: dict[int, InvoiceCounter] = field(default_factory=dict)
    # order.cancelled read before its order.confirmed: order id -> (deal id, reason, when)
    cancelled_ahead: dict[UUID, tuple[str, str, datetime]] = field(default_factory=dict)
    new_cancelled_ahead: dict[UUID, tuple[str, str, datetime]] = field(default_factory=dict)
    applied_cancelled_ahead: set[UUID] = field(default_factory=set)
    _by_order: dict[UUID, UUID] = field(default_factory=dict)
    _by_external: dict[str, UUID] = field(default_factory=dict)
    _by_number: dict[str, UUID] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for invoice in self.invoices.values():
            self._index(invoice)

    def known_invoice(self, invoice: Invoice) -> None:
        """An invoice as loaded: findable by order, ERP id and number, not marked changed."""
        self.invoices[invoice.invoice_id] = invoice
        self._index(invoice)

    def order(self, order_id: UUID) -> Order | None:
        return self.orders.get(order_id)

    def put_order(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.changed_orders[order.order_id] = order

    def invoice(self, invoice_id: UUID) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def invoice_of_order(self, order_id: UUID) -> Invoice | None:
        return self._lookup(self._by_order.get(order_id))

    def invoice_by_external(self, external_invoice_id: str) -> Invoice | None:
        return self._lookup(self._by_external.get(external_invoice_id))

    def invoice_by_number(self, number: str) -> Invoice | None:
        return self._lookup(self._by_number.get(number))

    def put_invoice(self, invoice: Invoice, *, new: bool = False) -> None:
        self.invoices[invoice.invoice_id] = invoice
        self._index(invoice)
        self.changed_invoices[invoice.invoice_id] = invoice
        if new:
            self.new_invoice_ids.add(invoice.invoice_id)

    def payment_recorded(self, payment_id: str) -> bool:
        return payment_id in self.recorded_payments

    def add_payment(self, invoice_id: UUID, payment: Payment) -> None:
        self.recorded_payments.add(payment.payment_id)
        self.new_payments[payment.payment_id] = (invoice_id, payment)

    def held_claim(self, external_invoice_id: str) -> ExternalClaim | None:
        return self.held.get(external_invoice_id)

    def held_for_order(self, order_id: UUID) -> list[ExternalClaim]:
        """ERP invoices waiting for this order, oldest first (the first valid one is posted)."""
        waiting = [c for c in self.held.values() if c.order_id == order_id]
        return sorted(waiting, key=lambda c: (c.received_at, c.external_invoice_id))

    def hold(self, claim: ExternalClaim) -> None:
        self.held[claim.external_invoice_id] = claim
        self.new_held[claim.external_invoice_id] = claim

    def release(self, external_invoice_id: str) -> None:
        self.held.pop(external_invoice_id, None)
        # Held and released within one batch: it never reaches the table.
        if self.new_held.pop(external_invoice_id, None) is None:
            self.released.add(external_invoice_id)

    def cancel_ahead(self, order_id: UUID, deal_id: str, reason: str, now: datetime) -> None:
        self.cancelled_ahead[order_id] = self.new_cancelled_ahead[order_id] = (
            deal_id,
            reason,
            now,
        )

    def take_cancel_ahead(self, order_id: UUID) -> str | None:
        """The reason of a cancellation that arrived before the order (then forgotten)."""
        found = self.cancelled_ahead.pop(order_id, None)
        if found is None:
            return None
        if self.new_cancelled_ahead.pop(order_id, None) is None:
            self.applied_cancelled_ahead.add(order_id)
        return found[1]

    def counter(self, year: int) -> InvoiceCounter:
        try:
            return self.counters[year]
        except KeyError:
            # Defaulting to 0 would restart the numbering; the loader must lock the row first.
            raise LookupError(f"invoice counter of {year} was not loaded") from None

    def put_counter(self, counter: InvoiceCounter) -> None:
        self.counters[counter.year] = counter
        self.changed_counters[counter.year] = counter

    def _index(self, invoice: Invoice) -> None:
        self._by_order[invoice.order_id] = invoice.invoice_id
        self._by_number[invoice.invoice_number] = invoice.invoice_id
        if invoice.external_invoice_id is not None:
            self._by_external[invoice.external_invoice_id] = invoice.invoice_id

    def _lookup(self, invoice_id: UUID | None) -> Invoice | None:
        return None if invoice_id is None else self.invoices.get(invoice_id)
