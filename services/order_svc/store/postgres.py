"""Postgres adapter of order_svc: load a batch's book in two queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.order_svc.domain import OrderState
from services.order_svc.store.book import OrderBook, Touches
from services.order_svc.store.rows import order_from_row, row_from_order
from services.order_svc.store.tables import order_counters, orders
from shared.counters import YearCounters
from shared.db import any_of, insert_many, upsert_many


class OrderStore:
    """Postgres adapter of order_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> OrderBook:
        """Lock and read what the batch touches: the year's counter, then the orders by id, by
        quote id, and all of the touched deals'.

        An invoice.paid names only its deal (the key) and its invoice, so its order is found among
        the deal's orders; `ix_orders_deal_id` serves that lookup. ERP commands may name an order
        by number, and an acknowledgement's ERP number is checked against other orders: the
        UNIQUE order_number and `uq_orders_erp_order_number` serve those.
        """
        book = OrderBook()
        if touches.counter_year is not None:
            # The counter row is created if missing and locked BEFORE the orders are read: two
            # members handling the same quote during a rebalance queue here, and the second one
            # then reads the first one's committed order (order_exists) instead of a second one.
            # The orders are read by a statement of their own, whose snapshot starts after the
            # wait.
            book.counters.update(await _COUNTERS.lock(conn, [touches.counter_year]))
        ids, quotes = sorted(touches.order_ids), sorted(touches.quote_ids)
        deals = sorted(touches.deal_ids)
        conditions = []
        if ids:
            conditions.append(any_of(orders.c.order_id, ids))
        if quotes:
            conditions.append(any_of(orders.c.quote_id, quotes))
        if deals:
            conditions.append(any_of(orders.c.deal_id, deals))
        if touches.order_numbers:
            conditions.append(any_of(orders.c.order_number, sorted(touches.order_numbers)))
        if touches.erp_order_numbers:
            erp_numbers = sorted(touches.erp_order_numbers)
            conditions.append(any_of(orders.c.erp_order_number, erp_numbers))
        if touches.unacknowledged_before is not None:
            c = orders.c
            conditions.append(
                and_(
                    c.state == OrderState.SUBMITTED.value,
                    c.erp_order_number.is_(None),
                    c.ack_alerted_at.is_(None),
                    c.confirmed_at < touches.unacknowledged_before,
                )
            )
        if conditions:
            rows = await conn.execute(
                select(orders).where(or_(*conditions)).order_by(orders.c.order_id).with_for_update()
            )
            for row in rows:
                book.remember(order_from_row(row))
        return book

    async def save(self, conn: AsyncConnection, book: OrderBook) -> None:
        await _COUNTERS.save(conn, {year: book.counters[year] for year in book.counters_changed})
        # A plain INSERT, never an upsert: a concurrent twin must fail on UNIQUE, not silently
        # overwrite the order another member already confirmed.
        await insert_many(conn, orders, [row_from_order(o) for o in book.created.values()])
        await upsert_many(
            conn, orders, [row_from_order(o) for o in book.changed.values()], ["order_id"]
        )


_COUNTERS = YearCounters(order_counters)
