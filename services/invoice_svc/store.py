"""invoice_svc's own PostgreSQL schema: tables, the per-batch book, and its Postgres adapter.

A batch loads everything its messages touch in a handful of queries (orders, held ERP invoices,
invoices, known payment ids, the year's number counter), the handlers decide against the
in-memory `InvoiceBook`, and `save` writes what changed with multi-row statements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
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
from shared.db import runtime_tables, upsert_many

SCHEMA = "invoice_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

_TOTALS = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")


def _totals_columns() -> list[Column[Any]]:
    return [Column(name, Numeric, nullable=False) for name in _TOTALS]


orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("order_number", Text, nullable=False),
    Column("quote_id", Uuid, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    *_totals_columns(),
    Column("payment_terms", Text, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("state", Text, nullable=False),
    Column("cancel_reason", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", Uuid, primary_key=True),
    Column("invoice_number", Text, nullable=False, unique=True),
    # The second line of defence behind the domain's checks: one invoice per order in either
    # mode, one invoice per ERP invoice.
    Column("order_id", Uuid, nullable=False, unique=True),
    Column("external_invoice_id", Text, unique=True),
    Column("deal_id", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("payment_status", Text),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    *_totals_columns(),
    Column("amount_paid", Numeric, nullable=False),
    Column("balance_due", Numeric, nullable=False),
    Column("payment_terms", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("cancel_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", Text, primary_key=True),
    Column("invoice_id", Uuid, ForeignKey(invoices.c.invoice_id), nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("method", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_payments_invoice_id", "invoice_id"),
)

pending_external_invoices = Table(
    "pending_external_invoices",
    metadata,
    Column("external_invoice_id", Text, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("invoice_number", Text, nullable=False),
    Column("currency", Text, nullable=False),
    *_totals_columns(),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("command_event_id", Uuid, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_pending_external_invoices_order_id", "order_id"),
)

# One row per year. Numbers come from this row, read locked and written in the batch
# transaction, never from a PostgreSQL SEQUENCE: nextval() is not transactional, so a batch
# that rolls back (crash, poison replay, deadlock retry) would burn numbers and leave gaps,
# which invoice numbering law in many countries forbids. Here a rollback undoes the counter
# together with the invoices that used it. The price: batches that post invoices serialise on
# this row, which is one short row lock per batch, not per invoice.
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
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


class InvoiceStore:
    """Postgres adapter of invoice_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> InvoiceBook:
        # Lock order is fixed (orders, held, invoices, counter) so two batches that meet during a
        # rebalance wait for each other instead of deadlocking.
        book = InvoiceBook()
        order_ids = sorted(touches.order_ids)
        if order_ids:
            rows = await conn.execute(
                select(orders)
                .where(orders.c.order_id.in_(order_ids))
                .order_by(orders.c.order_id)
                .with_for_update()
            )
            book.orders.update((row.order_id, _order_from_row(row)) for row in rows)
        external_ids = set(touches.external_ids)
        numbers = set(touches.invoice_numbers)
        if external_ids or order_ids:
            rows = await conn.execute(
                select(pending_external_invoices)
                .where(
                    or_(
                        pending_external_invoices.c.external_invoice_id.in_(sorted(external_ids)),
                        pending_external_invoices.c.order_id.in_(order_ids),
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
                        invoices.c.invoice_id.in_(sorted(touches.invoice_ids)),
                        invoices.c.order_id.in_(order_ids),
                        invoices.c.external_invoice_id.in_(sorted(external_ids)),
                        invoices.c.invoice_number.in_(sorted(numbers)),
                    )
                )
                .order_by(invoices.c.invoice_id)
                .with_for_update()
            )
            for row in rows:
                book.known_invoice(_invoice_from_row(row))
        if touches.payment_ids:
            # Read after the invoices are locked: a concurrent batch recording the same payment
            # holds the invoice row, so this read sees its payment once it committed.
            rows = await conn.execute(
                select(payments.c.payment_id).where(
                    payments.c.payment_id.in_(sorted(touches.payment_ids))
                )
            )
            book.recorded_payments.update(row.payment_id for row in rows)
        if touches.counter_year is not None:
            book.counters[touches.counter_year] = await _lock_counter(conn, touches.counter_year)
        return book

    async def save(self, conn: AsyncConnection, book: InvoiceBook) -> None:
        await upsert_many(
            conn, orders, [_row_from_order(o) for o in book.changed_orders.values()], ["order_id"]
        )
        new = [i for i in book.changed_invoices.values() if i.invoice_id in book.new_invoice_ids]
        if new:
            # Plain INSERT, not an upsert: a second invoice for an order (or ERP invoice, or
            # number) must fail loudly on the UNIQUE constraints, never overwrite the first.
            await conn.execute(insert(invoices), [_row_from_invoice(i) for i in new])
        changed = [
            i for i in book.changed_invoices.values() if i.invoice_id not in book.new_invoice_ids
        ]
        await upsert_many(conn, invoices, [_row_from_invoice(i) for i in changed], ["invoice_id"])
        if book.new_payments:
            await conn.execute(
                insert(payments),
                [_row_from_payment(iid, p) for iid, p in book.new_payments.values()],
            )
        if book.new_held:
            await conn.execute(
                insert(pending_external_invoices),
                [_row_from_claim(c) for c in book.new_held.values()],
            )
        if book.released:
            await conn.execute(
                delete(pending_external_invoices).where(
                    pending_external_invoices.c.external_invoice_id.in_(sorted(book.released))
                )
            )
        if book.changed_counters:
            await conn.execute(
                update(invoice_counters)
                .where(invoice_counters.c.year == bindparam("b_year"))
                .values(last=bindparam("b_last")),
                [{"b_year": c.year, "b_last": c.last} for c in book.changed_counters.values()],
            )


async def _lock_counter(conn: AsyncConnection, year: int) -> InvoiceCounter:
    """Create the year's counter if needed and lock it, in one round trip: the no-op DO UPDATE
    takes the row lock that SELECT ... FOR UPDATE would, and RETURNING reads the value."""
    stmt = pg_insert(invoice_counters).values(year=year, last=0)
    stmt = stmt.on_conflict_do_update(
        index_elements=[invoice_counters.c.year], set_={"last": invoice_counters.c.last}
    ).returning(invoice_counters.c.last)
    last = (await conn.execute(stmt)).scalar_one()
    return InvoiceCounter(year, int(last))


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
    return {name: getattr(totals, name) for name in _TOTALS}


def _totals_of(row: Row[Any], currency: str) -> money.DocumentTotals:
    values = {name: Decimal(getattr(row, name)) for name in _TOTALS}
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
