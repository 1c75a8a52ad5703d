"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.order_svc.domain import Order, OrderCounter, order_id_for


@dataclass(frozen=True, slots=True)
class Touches:
    """The keys one batch's messages touch, so `load` can fetch them in two queries."""

    order_ids: frozenset[UUID] = frozenset()
    quote_ids: frozenset[UUID] = frozenset()
    # invoice.paid names no order: its deal's orders are loaded, the domain picks the one.
    deal_ids: frozenset[str] = frozenset()
    # ERP commands may name the order by its number; an acknowledgement's ERP number is looked
    # up (one ERP order per order).
    order_numbers: frozenset[str] = frozenset()
    erp_order_numbers: frozenset[str] = frozenset()
    counter_year: int | None = None
    # A tick: the orders confirmed before this, still waiting for the ERP, not alerted about.
    unacknowledged_before: datetime | None = None


@dataclass
class OrderBook:
    """The orders and order counters one batch works on, and what it changed."""

    orders: dict[UUID, Order] = field(default_factory=dict)
    by_quote: dict[UUID, UUID] = field(default_factory=dict)
    # year -> last number given out that year
    counters: dict[int, int] = field(default_factory=dict)
    created: dict[UUID, Order] = field(default_factory=dict)
    changed: dict[UUID, Order] = field(default_factory=dict)
    counters_changed: set[int] = field(default_factory=set)

    def get(self, order_id: UUID) -> Order | None:
        return self.orders.get(order_id)

    def of_deal(self, deal_id: str) -> list[Order]:
        """The deal's orders in the book (loaded or created in this batch), by order id."""
        return sorted(
            (o for o in self.orders.values() if o.deal_id == deal_id), key=lambda o: o.order_id
        )

    def named(self, order_id: UUID | None, order_number: str | None) -> Order | None:
        """The order a command names by id or by number; both given must name the same one."""
        if order_id is not None:
            found = self.orders.get(order_id)
            if found is not None and order_number is not None:
                return found if found.order_number == order_number else None
            return found
        return next((o for o in self.orders.values() if o.order_number == order_number), None)

    def with_erp_number(self, erp_order_number: str) -> Order | None:
        """The order the ERP booked under `erp_order_number`, if one in the book is."""
        return next(
            (o for o in self.orders.values() if o.erp_order_number == erp_order_number), None
        )

    def for_quote(self, quote_id: UUID) -> Order | None:
        """The quote's order: recorded under the quote's id, or under the id derived from it."""
        order_id = self.by_quote.get(quote_id)
        found = None if order_id is None else self.orders.get(order_id)
        return found or self.orders.get(order_id_for(quote_id))

    def add(self, order: Order) -> None:
        """A new order, made in this batch: saved with a plain INSERT."""
        self.orders[order.order_id] = order
        self.by_quote[order.quote.quote_id] = order.order_id
        self.created[order.order_id] = order

    def put(self, order: Order) -> None:
        self.orders[order.order_id] = order
        if order.order_id in self.created:
            self.created[order.order_id] = order
        else:
            self.changed[order.order_id] = order

    def remember(self, order: Order) -> None:
        """An order as loaded (unchanged)."""
        self.orders[order.order_id] = order
        self.by_quote[order.quote.quote_id] = order.order_id

    def counter(self, year: int) -> OrderCounter:
        # The store locks the year's row (created at 0) for every batch holding an accepted
        # quote, so a year missing here is one a book made in memory has not numbered yet.
        return OrderCounter(year, self.counters.get(year, 0))

    def put_counter(self, counter: OrderCounter) -> None:
        self.counters[counter.year] = counter.last
        self.counters_changed.add(counter.year)
