"""Loading the orders a batch touches, with what was read ahead of them, under their locks.

An order's messages travel on several topics, which two members can hold during a rebalance, so
every batch takes the advisory locks of the orders it touches before any row lock; and of the
names it gives orders that may not exist yet (an ERP invoice naming an order by salesflow's
number or the ERP's number is held under that name until the order, or its acknowledgement,
arrives). Whoever holds a claim under a name and whoever settles claims for an order so take one
lock in common: the claim is either seen by the settler or finds the order itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invoice_svc.store.book import InvoiceBook, Touches
from services.invoice_svc.store.rows import order_from_row
from services.invoice_svc.store.tables import (
    acknowledged_ahead,
    cancelled_ahead,
    invoices,
    orders,
    shipped_ahead,
)
from shared.db import advisory_key, any_of

_LOCKS = text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS keys"
)


async def load_orders(conn: AsyncConnection, book: InvoiceBook, touches: Touches) -> list[UUID]:
    """Lock and read the orders the batch touches (by id, by an invoice of theirs, by number or
    ERP number) with what was read ahead of them; their ids."""
    order_ids = touches.order_ids | await _orders_named(conn, touches)
    keys = {_order_lock_key(o) for o in order_ids}
    keys |= {_name_key("order", n) for n in touches.order_numbers}
    keys |= {_name_key("erp", n) for n in touches.erp_order_numbers}
    await _lock(conn, keys)
    if not (order_ids or touches.order_numbers or touches.erp_order_numbers):
        return []
    # A statement of its own, after the locks: a statement reads the snapshot taken when it
    # starts, so rows read by the statement that waited would miss what the previous holder
    # committed. Names are looked up again here: an order created meanwhile is found.
    found = await conn.execute(
        _orders_and_cancellations(
            sorted(order_ids), sorted(touches.order_numbers), sorted(touches.erp_order_numbers)
        )
    )
    for row in found:
        if row.ahead_order_id is not None:
            book.cancelled_ahead[row.ahead_order_id] = (
                row.ahead_deal_id,
                row.ahead_reason,
                row.ahead_received_at,
                {int(n): Decimal(q) for n, q in (row.ahead_shipped or {}).items()},
            )
        if row.early_order_id is not None:
            book.shipped_ahead[row.early_order_id] = (
                row.early_deal_id,
                row.early_shipment_ref,
                {int(n): Decimal(q) for n, q in row.early_shipped.items()},
                row.early_received_at,
            )
        if row.order_id is not None:
            book.orders[row.order_id] = order_from_row(row)
    if order_ids:
        rows = await conn.execute(
            select(acknowledged_ahead)
            .where(any_of(acknowledged_ahead.c.order_id, sorted(order_ids)))
            .with_for_update()
        )
        for row in rows:
            book.acknowledged_ahead[row.order_id] = (
                row.deal_id,
                row.erp_order_number,
                row.received_at,
            )
    # An ERP number learnt only now (acknowledged ahead of the order this batch confirms) is a
    # name claims may be held under: its lock too, before the held claims are read.
    learnt = {erp for _, erp, _ in book.acknowledged_ahead.values()} - touches.erp_order_numbers
    await _lock(conn, {_name_key("erp", n) for n in learnt})
    return sorted(order_ids | set(book.orders))


def names_of(book: InvoiceBook, touches: Touches) -> tuple[list[str], list[str]]:
    """The order numbers and ERP numbers held ERP invoices of this batch's orders may name."""
    numbers = set(touches.order_numbers) | {o.order_number for o in book.orders.values()}
    erp_numbers = set(touches.erp_order_numbers)
    erp_numbers |= {o.erp_order_number for o in book.orders.values() if o.erp_order_number}
    erp_numbers |= {erp for _, erp, _ in book.acknowledged_ahead.values()}
    return sorted(numbers), sorted(erp_numbers)


async def _lock(conn: AsyncConnection, keys: Iterable[int]) -> None:
    wanted = sorted(set(keys))
    if wanted:
        await conn.execute(_LOCKS, {"keys": wanted})


async def _orders_named(conn: AsyncConnection, touches: Touches) -> set[UUID]:
    """The orders of the invoices a batch names only by invoice (payments, credits), and of the
    order and ERP numbers it names: read unlocked, so their order locks can be taken first, like
    everyone else's."""
    conditions = []
    if touches.invoice_ids or touches.external_ids:
        conditions.append(
            select(invoices.c.order_id).where(
                or_(
                    any_of(invoices.c.invoice_id, sorted(touches.invoice_ids)),
                    any_of(invoices.c.external_invoice_id, sorted(touches.external_ids)),
                )
            )
        )
    if touches.order_numbers or touches.erp_order_numbers:
        conditions.append(
            select(orders.c.order_id).where(
                or_(
                    any_of(orders.c.order_number, sorted(touches.order_numbers)),
                    any_of(orders.c.erp_order_number, sorted(touches.erp_order_numbers)),
                )
            )
        )
    found: set[UUID] = set()
    for statement in conditions:
        found.update(row.order_id for row in await conn.execute(statement))
    return found


def _order_lock_key(order_id: UUID) -> int:
    return int.from_bytes(order_id.bytes[:8], "big", signed=True)


def _name_key(kind: str, name: str) -> int:
    return advisory_key(f"invoice_svc:{kind}:{name}")


def _orders_and_cancellations(
    order_ids: list[UUID], numbers: list[str], erp_numbers: list[str]
) -> Select[Any]:
    """The orders, and the cancellations and shipments read ahead of their order, locked, in
    one round trip.

    Each table is read and locked in its own CTE (one snapshot, that of the statement), and they
    are joined on the order id: what was kept ahead has no order row, an order most often nothing
    ahead. The order in which the CTEs take their row locks is the plan's, which is safe only
    because every writer of these tables holds the order's advisory lock (taken just before): no
    other transaction can hold or wait for these rows meanwhile. (An order found only by a name
    was created after the names were looked up unlocked; its row lock is then waited for.)
    """
    ahead = (
        select(
            cancelled_ahead.c.order_id.label("ahead_order_id"),
            cancelled_ahead.c.deal_id.label("ahead_deal_id"),
            cancelled_ahead.c.reason.label("ahead_reason"),
            cancelled_ahead.c.received_at.label("ahead_received_at"),
            cancelled_ahead.c.shipped.label("ahead_shipped"),
        )
        .where(any_of(cancelled_ahead.c.order_id, order_ids))
        .with_for_update()
        .cte("ahead")
        .prefix_with("MATERIALIZED")
    )
    early = (
        select(
            shipped_ahead.c.order_id.label("early_order_id"),
            shipped_ahead.c.deal_id.label("early_deal_id"),
            shipped_ahead.c.shipment_ref.label("early_shipment_ref"),
            shipped_ahead.c.shipped.label("early_shipped"),
            shipped_ahead.c.received_at.label("early_received_at"),
        )
        .where(any_of(shipped_ahead.c.order_id, order_ids))
        .with_for_update()
        .cte("early")
        .prefix_with("MATERIALIZED")
    )
    known = (
        select(orders)
        .where(
            or_(
                any_of(orders.c.order_id, order_ids),
                any_of(orders.c.order_number, numbers),
                any_of(orders.c.erp_order_number, erp_numbers),
            )
        )
        .order_by(orders.c.order_id)
        .with_for_update()
        .cte("known")
        .prefix_with("MATERIALIZED")
    )
    either = func.coalesce(known.c.order_id, ahead.c.ahead_order_id)
    return select(known, ahead, early).select_from(
        known.join(ahead, known.c.order_id == ahead.c.ahead_order_id, full=True).join(
            early, either == early.c.early_order_id, full=True
        )
    )
