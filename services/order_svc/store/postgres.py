"""order_svc's own PostgreSQL schema: tables, the per-batch book, and its Postgres adapter.

A batch loads what its messages touch in two queries (the year's order counter, locked; the
orders by id, quote id or deal id, locked), the handlers decide against the in-memory
`OrderBook`, and `save` writes what changed: new orders with a plain multi-row INSERT (so the
UNIQUE constraints on quote_id and order_number can object), changed ones with one executemany
upsert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    Uuid,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.money import DocumentTotals, LineAmounts
from services.order_svc.domain import (
    Contact,
    Customer,
    InvoiceRef,
    Order,
    OrderLine,
    OrderState,
    QuoteRef,
)
from shared.db import any_of, insert_many, runtime_tables, upsert_many

SCHEMA = "order_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    # Second line of defence behind the deterministic order id: one order per accepted quote.
    Column("quote_id", Uuid, nullable=False, unique=True),
    Column("order_number", Text, nullable=False, unique=True),
    Column("quote_number", Text, nullable=False),
    Column("quote_revision", Integer, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("completeness", Text),
    Column("opportunity_id", Uuid, nullable=False),
    Column("lead_id", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("contact", JSONB, nullable=False),
    Column("price_list_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    # Unconstrained NUMERIC keeps each amount's scale: 226.10 reads back as 226.10, not 226.1000.
    Column("subtotal", Numeric, nullable=False),
    Column("discount_total", Numeric, nullable=False),
    Column("net_total", Numeric, nullable=False),
    Column("tax_total", Numeric, nullable=False),
    Column("grand_total", Numeric, nullable=False),
    Column("payment_terms", Text, nullable=False),
    Column("customer_po", Text),
    Column("shipped", JSONB, nullable=False),
    Column("shipment_refs", JSONB, nullable=False),
    Column("invoices", JSONB, nullable=False),
    Column("invoice_id", Uuid),
    Column("invoice_number", Text),
    Column("cancel_reason", Text),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_orders_deal_id", "deal_id"),
)

order_counters = Table(
    "order_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)


@dataclass
class OrderBook:
    """The orders and order counters one batch works on, and what it changed."""

    orders: dict[UUID, Order] = field(default_factory=dict)
    by_quote: dict[UUID, UUID] = field(default_factory=dict)
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

    def for_quote(self, quote_id: UUID) -> Order | None:
        order_id = self.by_quote.get(quote_id)
        return None if order_id is None else self.orders.get(order_id)

    def next_sequence(self, year: int) -> int:
        """The number the next order of `year` gets; taken only by `add`."""
        return self.counters.get(year, 0) + 1

    def add(self, order: Order, *, year: int, sequence: int) -> None:
        self.orders[order.order_id] = order
        self.by_quote[order.quote.quote_id] = order.order_id
        self.created[order.order_id] = order
        self.counters[year] = max(self.counters.get(year, 0), sequence)
        self.counters_changed.add(year)

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


class OrderStore:
    """Postgres adapter of order_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(
        self,
        conn: AsyncConnection,
        *,
        order_ids: Iterable[UUID],
        quote_ids: Iterable[UUID],
        counter_years: Iterable[int],
        deal_ids: Iterable[str] = (),
    ) -> OrderBook:
        """Lock and read the orders the batch touches: by id, by quote id, and all of `deal_ids`.

        An invoice.paid names only its deal (the key) and its invoice, so its order is found among
        the deal's orders; `ix_orders_deal_id` serves that lookup.
        """
        book = OrderBook()
        years = sorted(set(counter_years))
        if years:
            # The counter row is created if missing and locked BEFORE the orders are read: two
            # members handling the same quote during a rebalance queue here, and the second one
            # then reads the first one's committed order (order_exists) instead of a second one.
            await insert_many(
                conn,
                order_counters,
                [{"year": year, "last": 0} for year in years],
                ignore_conflicts=True,
            )
            rows = await conn.execute(
                select(order_counters.c.year, order_counters.c.last)
                .where(any_of(order_counters.c.year, years))
                .order_by(order_counters.c.year)
                .with_for_update()
            )
            book.counters.update({row.year: row.last for row in rows})
        ids, quotes = sorted(set(order_ids)), sorted(set(quote_ids))
        deals = sorted(set(deal_ids))
        conditions = []
        if ids:
            conditions.append(any_of(orders.c.order_id, ids))
        if quotes:
            conditions.append(any_of(orders.c.quote_id, quotes))
        if deals:
            conditions.append(any_of(orders.c.deal_id, deals))
        if conditions:
            rows = await conn.execute(
                select(orders).where(or_(*conditions)).order_by(orders.c.order_id).with_for_update()
            )
            for row in rows:
                book.remember(order_from_row(row))
        return book

    async def save(self, conn: AsyncConnection, book: OrderBook) -> None:
        if book.counters_changed:
            await upsert_many(
                conn,
                order_counters,
                [{"year": y, "last": book.counters[y]} for y in sorted(book.counters_changed)],
                ["year"],
            )
        if book.created:
            # A plain INSERT, never an upsert: a concurrent twin must fail on UNIQUE, not
            # silently overwrite the order another member already confirmed.
            await conn.execute(insert(orders), [row_from_order(o) for o in book.created.values()])
        await upsert_many(
            conn, orders, [row_from_order(o) for o in book.changed.values()], ["order_id"]
        )


def row_from_order(order: Order) -> dict[str, Any]:
    customer, totals, invoice = order.customer, order.totals, order.invoice
    completeness = order.completeness
    return {
        "order_id": order.order_id,
        "quote_id": order.quote.quote_id,
        "order_number": order.order_number,
        "quote_number": order.quote.quote_number,
        "quote_revision": order.quote.revision,
        "deal_id": order.deal_id,
        "state": order.state.value,
        "completeness": completeness.value if completeness else None,
        "opportunity_id": customer.opportunity_id,
        "lead_id": customer.lead_id,
        "account_id": customer.account_id,
        "account_name": customer.account_name,
        "contact_id": customer.contact_id,
        "contact": _contact_to_json(customer.contact),
        "price_list_id": order.price_list_id,
        "currency": order.currency,
        "lines": [_line_to_json(line) for line in order.lines],
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "net_total": totals.net_total,
        "tax_total": totals.tax_total,
        "grand_total": totals.grand_total,
        "payment_terms": order.payment_terms,
        "customer_po": order.customer_po,
        "shipped": {str(n): str(q) for n, q in sorted(order.shipped.items())},
        "shipment_refs": sorted(order.shipment_refs),
        "invoices": [
            {"invoice_id": str(i.invoice_id), "invoice_number": i.invoice_number, "paid": i.paid}
            for i in order.invoices
        ],
        "invoice_id": invoice.invoice_id if invoice else None,
        "invoice_number": invoice.invoice_number if invoice else None,
        "cancel_reason": order.cancel_reason,
        "confirmed_at": order.confirmed_at,
        "updated_at": order.updated_at,
    }


def order_from_row(row: Row[Any] | Any) -> Order:
    currency = row.currency
    return Order(
        order_id=row.order_id,
        order_number=row.order_number,
        deal_id=row.deal_id,
        quote=QuoteRef(row.quote_id, row.quote_number, row.quote_revision),
        customer=Customer(
            opportunity_id=row.opportunity_id,
            lead_id=row.lead_id,
            account_id=row.account_id,
            account_name=row.account_name,
            contact_id=row.contact_id,
            contact=Contact(**row.contact),
        ),
        price_list_id=row.price_list_id,
        currency=currency,
        lines=tuple(_line_from_json(d, currency) for d in row.lines),
        totals=DocumentTotals(
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            net_total=row.net_total,
            tax_total=row.tax_total,
            grand_total=row.grand_total,
            currency=currency,
        ),
        payment_terms=row.payment_terms,
        customer_po=row.customer_po,
        state=OrderState(row.state),
        confirmed_at=row.confirmed_at,
        updated_at=row.updated_at,
        shipped=MappingProxyType({int(n): Decimal(q) for n, q in row.shipped.items()}),
        shipment_refs=frozenset(row.shipment_refs),
        # Entries written before payments were tracked have no "paid": no payment was seen.
        invoices=tuple(
            InvoiceRef(UUID(i["invoice_id"]), i["invoice_number"], bool(i.get("paid", False)))
            for i in row.invoices
        ),
        cancel_reason=row.cancel_reason,
    )


def _contact_to_json(c: Contact) -> dict[str, Any]:
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "job_title": c.job_title,
    }


def _line_to_json(line: OrderLine) -> dict[str, Any]:
    a = line.amounts
    return {
        "line_no": line.line_no,
        "sku": line.sku,
        "description": line.description,
        "write_in": line.write_in,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "tax_rate": str(line.tax_rate),
        "base": str(a.base),
        "discount": str(a.discount),
        "net": str(a.net),
        "tax": str(a.tax),
        "total": str(a.total),
    }


def _line_from_json(d: dict[str, Any], currency: str) -> OrderLine:
    return OrderLine(
        line_no=d["line_no"],
        sku=d["sku"],
        description=d["description"],
        write_in=d["write_in"],
        quantity=Decimal(d["quantity"]),
        unit=d["unit"],
        unit_price=Decimal(d["unit_price"]),
        tax_rate=Decimal(d["tax_rate"]),
        amounts=LineAmounts(
            base=Decimal(d["base"]),
            discount=Decimal(d["discount"]),
            net=Decimal(d["net"]),
            tax=Decimal(d["tax"]),
            total=Decimal(d["total"]),
            currency=currency,
        ),
    )
