"""Postgres adapter of invoice_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Select, delete, or_, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import money
from services.invoice_svc.domain import (
    ExternalClaim,
    Invoice,
    InvoiceCounter,
    InvoiceSource,
    InvoiceState,
    Line,
    Order,
    Payment,
    PaymentStatus,
)
from services.invoice_svc.store.book import InvoiceBook, Touches
from services.invoice_svc.store.tables import (
    TOTALS,
    cancelled_ahead,
    invoice_counters,
    invoices,
    orders,
    payments,
    pending_external_invoices,
)
from shared.counters import YearCounters
from shared.db import any_of, insert_many, upsert_many


class InvoiceStore:
    """Postgres adapter of invoice_svc (SQLAlchemy Core, no ORM on the hot path).

    Every statement has one SQL text whatever the batch holds: keys are bound as arrays
    (`any_of`), inserts go through `insert_many` / `upsert_many`, so SQLAlchemy compiles each
    statement once and asyncpg prepares it once per connection.
    """

    async def load(self, conn: AsyncConnection, touches: Touches) -> InvoiceBook:
        # Lock order is fixed (orders and their cancellations, held, invoices, counter) so two
        # batches that meet during a rebalance wait for each other instead of deadlocking.
        book = InvoiceBook()
        order_ids = sorted(touches.order_ids)
        if order_ids:
            # One transaction at a time per order, taken before any row lock: an order's messages
            # travel on several topics, which two members can hold during a rebalance. Without
            # it, one member records a cancellation (or ERP invoice) as ahead of its order while
            # the other confirms the order, and neither sees the other's row. A statement of its
            # own: a statement reads the snapshot taken when it starts, so rows read in the
            # statement that waited for the lock would miss what the previous holder committed.
            await conn.execute(
                _ORDER_LOCKS, {"keys": sorted({_order_lock_key(o) for o in order_ids})}
            )
            for row in await conn.execute(_orders_and_cancellations(order_ids)):
                if row.ahead_order_id is not None:
                    book.cancelled_ahead[row.ahead_order_id] = (
                        row.ahead_deal_id,
                        row.ahead_reason,
                        row.ahead_received_at,
                    )
                if row.order_id is not None:
                    book.orders[row.order_id] = _order_from_row(row)
        external_ids = sorted(touches.external_ids)
        numbers = set(touches.invoice_numbers)
        if external_ids or order_ids:
            rows = await conn.execute(
                select(pending_external_invoices)
                .where(
                    or_(
                        any_of(pending_external_invoices.c.external_invoice_id, external_ids),
                        any_of(pending_external_invoices.c.order_id, order_ids),
                    )
                )
                .order_by(pending_external_invoices.c.external_invoice_id)
                .with_for_update()
            )
            for row in rows:
                claim = _claim_from_row(row)
                book.held[claim.external_invoice_id] = claim
                numbers.add(claim.invoice_number)
        if order_ids or touches.invoice_ids or external_ids or numbers:
            rows = await conn.execute(
                select(invoices)
                .where(
                    or_(
                        any_of(invoices.c.invoice_id, sorted(touches.invoice_ids)),
                        any_of(invoices.c.order_id, order_ids),
                        any_of(invoices.c.external_invoice_id, external_ids),
                        any_of(invoices.c.invoice_number, sorted(numbers)),
                    )
                )
                .order_by(invoices.c.invoice_id)
                .with_for_update()
            )
            for row in rows:
                book.known_invoice(_invoice_from_row(row))
        if touches.payment_ids:
            # Read after the invoices are locked, in a statement of its own: a concurrent batch
            # recording the same payment holds the invoice row, so this read (a new snapshot)
            # sees its payment once it committed.
            rows = await conn.execute(
                select(payments.c.payment_id).where(
                    any_of(payments.c.payment_id, sorted(touches.payment_ids))
                )
            )
            book.recorded_payments.update(row.payment_id for row in rows)
        if touches.counter_year is not None:
            for year, last in (await _COUNTERS.lock(conn, [touches.counter_year])).items():
                book.counters[year] = InvoiceCounter(year, last)
        return book

    async def save(self, conn: AsyncConnection, book: InvoiceBook) -> None:
        await upsert_many(
            conn, orders, [_row_from_order(o) for o in book.changed_orders.values()], ["order_id"]
        )
        # Plain INSERT, not an upsert: a second invoice for an order (or ERP invoice, or number)
        # must fail loudly on the UNIQUE constraints, never overwrite the first.
        await insert_many(
            conn,
            invoices,
            [
                _row_from_invoice(i)
                for i in book.changed_invoices.values()
                if i.invoice_id in book.new_invoice_ids
            ],
        )
        changed = [
            i for i in book.changed_invoices.values() if i.invoice_id not in book.new_invoice_ids
        ]
        await upsert_many(conn, invoices, [_row_from_invoice(i) for i in changed], ["invoice_id"])
        await insert_many(
            conn,
            payments,
            [_row_from_payment(iid, p) for iid, p in book.new_payments.values()],
        )
        await insert_many(
            conn, pending_external_invoices, [_row_from_claim(c) for c in book.new_held.values()]
        )
        if book.released:
            await conn.execute(
                delete(pending_external_invoices).where(
                    any_of(pending_external_invoices.c.external_invoice_id, sorted(book.released))
                )
            )
        await insert_many(
            conn,
            cancelled_ahead,
            [
                {"order_id": o, "deal_id": d, "reason": r, "received_at": at}
                for o, (d, r, at) in book.new_cancelled_ahead.items()
            ],
        )
        if book.applied_cancelled_ahead:
            await conn.execute(
                delete(cancelled_ahead).where(
                    any_of(cancelled_ahead.c.order_id, sorted(book.applied_cancelled_ahead))
                )
            )
        await _COUNTERS.save(conn, {c.year: c.last for c in book.changed_counters.values()})


_ORDER_LOCKS = text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS keys"
)

_COUNTERS = YearCounters(invoice_counters)


def _order_lock_key(order_id: UUID) -> int:
    return int.from_bytes(order_id.bytes[:8], "big", signed=True)


def _orders_and_cancellations(order_ids: list[UUID]) -> Select[Any]:
    """The orders and the cancellations read ahead of their order, locked, in one round trip.

    Each table is read and locked in its own CTE (one snapshot, that of the statement), and the
    two are joined on the order id: a cancellation kept ahead has no order row, an order most
    often no cancellation. The order in which the two CTEs take their row locks is the plan's,
    which is safe only because every writer of these two tables holds the order's advisory lock
    (taken just before): no other transaction can hold or wait for these rows meanwhile.
    """
    ahead = (
        select(
            cancelled_ahead.c.order_id.label("ahead_order_id"),
            cancelled_ahead.c.deal_id.label("ahead_deal_id"),
            cancelled_ahead.c.reason.label("ahead_reason"),
            cancelled_ahead.c.received_at.label("ahead_received_at"),
        )
        .where(any_of(cancelled_ahead.c.order_id, order_ids))
        .with_for_update()
        .cte("ahead")
        .prefix_with("MATERIALIZED")
    )
    known = (
        select(orders)
        .where(any_of(orders.c.order_id, order_ids))
        .order_by(orders.c.order_id)
        .with_for_update()
        .cte("known")
        .prefix_with("MATERIALIZED")
    )
    return select(known, ahead).select_from(
        known.join(ahead, known.c.order_id == ahead.c.ahead_order_id, full=True)
    )


def lines_to_json(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "sku": line.sku,
            "description": line.description,
            "write_in": line.write_in,
            "quantity": str(line.quantity),
            "unit": line.unit,
            "unit_price": str(line.unit_price),
            "discount_amount": str(line.discount_amount),
            "tax_rate": str(line.tax_rate),
            "base_amount": str(line.base_amount),
            "net_amount": str(line.net_amount),
            "tax_amount": str(line.tax_amount),
            "total_amount": str(line.total_amount),
        }
        for line in lines
    ]


def lines_from_json(data: Iterable[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(
        Line(
            line_no=int(d["line_no"]),
            sku=d.get("sku"),
            description=d["description"],
            write_in=bool(d["write_in"]),
            quantity=Decimal(d["quantity"]),
            unit=d["unit"],
            unit_price=Decimal(d["unit_price"]),
            discount_amount=Decimal(d["discount_amount"]),
            tax_rate=Decimal(d["tax_rate"]),
            base_amount=Decimal(d["base_amount"]),
            net_amount=Decimal(d["net_amount"]),
            tax_amount=Decimal(d["tax_amount"]),
            total_amount=Decimal(d["total_amount"]),
        )
        for d in data
    )


def _totals_row(totals: money.DocumentTotals) -> dict[str, Decimal]:
    return {name: getattr(totals, name) for name in TOTALS}


def _totals_of(row: Row[Any], currency: str) -> money.DocumentTotals:
    values = {name: Decimal(getattr(row, name)) for name in TOTALS}
    return money.DocumentTotals(**values, currency=currency)


def _row_from_order(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "quote_id": order.quote_id,
        "deal_id": order.deal_id,
        "account_id": order.account_id,
        "account_name": order.account_name,
        "currency": order.currency,
        "lines": lines_to_json(order.lines),
        **_totals_row(order.totals),
        "payment_terms": order.payment_terms,
        "confirmed_at": order.confirmed_at,
        "state": "cancelled" if order.cancelled else "confirmed",
        "cancel_reason": order.cancel_reason,
    }


def _order_from_row(row: Row[Any]) -> Order:
    return Order(
        order_id=row.order_id,
        order_number=row.order_number,
        quote_id=row.quote_id,
        deal_id=row.deal_id,
        account_id=row.account_id,
        account_name=row.account_name,
        currency=row.currency,
        lines=lines_from_json(row.lines),
        totals=_totals_of(row, row.currency),
        payment_terms=row.payment_terms,
        confirmed_at=row.confirmed_at,
        cancelled=row.state == "cancelled",
        cancel_reason=row.cancel_reason,
    )


def _row_from_invoice(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.invoice_number,
        "order_id": invoice.order_id,
        "external_invoice_id": invoice.external_invoice_id,
        "deal_id": invoice.deal_id,
        "source": invoice.source.value,
        "state": invoice.state.value,
        "payment_status": invoice.payment_status.value if invoice.payment_status else None,
        "currency": invoice.currency,
        "lines": lines_to_json(invoice.lines),
        **_totals_row(invoice.totals),
        "amount_paid": invoice.amount_paid,
        "balance_due": invoice.balance_due,
        "payment_terms": invoice.payment_terms,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "cancel_reason": invoice.cancel_reason,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
    }


def _invoice_from_row(row: Row[Any]) -> Invoice:
    return Invoice(
        invoice_id=row.invoice_id,
        invoice_number=row.invoice_number,
        order_id=row.order_id,
        deal_id=row.deal_id,
        source=InvoiceSource(row.source),
        external_invoice_id=row.external_invoice_id,
        currency=row.currency,
        lines=lines_from_json(row.lines),
        totals=_totals_of(row, row.currency),
        payment_terms=row.payment_terms,
        issue_date=row.issue_date,
        due_date=row.due_date,
        state=InvoiceState(row.state),
        amount_paid=Decimal(row.amount_paid),
        balance_due=Decimal(row.balance_due),
        created_at=row.created_at,
        updated_at=row.updated_at,
        payment_status=PaymentStatus(row.payment_status) if row.payment_status else None,
        cancel_reason=row.cancel_reason,
    )


def _row_from_payment(invoice_id: UUID, payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "invoice_id": invoice_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "paid_at": payment.paid_at,
        "method": payment.method,
        "recorded_at": payment.recorded_at,
    }


def _row_from_claim(claim: ExternalClaim) -> dict[str, Any]:
    return {
        "external_invoice_id": claim.external_invoice_id,
        "order_id": claim.order_id,
        "deal_id": claim.deal_id,
        "invoice_number": claim.invoice_number,
        "currency": claim.currency,
        **_totals_row(claim.totals),
        "issue_date": claim.issue_date,
        "due_date": claim.due_date,
        "command_event_id": claim.command_event_id,
        "received_at": claim.received_at,
    }


def _claim_from_row(row: Row[Any]) -> ExternalClaim:
    return ExternalClaim(
        external_invoice_id=row.external_invoice_id,
        invoice_number=row.invoice_number,
        order_id=row.order_id,
        deal_id=row.deal_id,
        currency=row.currency,
        totals=_totals_of(row, row.currency),
        issue_date=row.issue_date,
        due_date=row.due_date,
        command_event_id=row.command_event_id,
        received_at=row.received_at,
    )
