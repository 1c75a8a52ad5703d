"""quote_svc's own PostgreSQL schema: tables, the per-batch book, and its Postgres adapter.

A batch loads what its messages touch in a handful of queries (the opportunities and all their
quote revisions, locked; the price list items its skus need; this year's quote counter, locked,
when the batch opens opportunities). Handlers decide against the in-memory `QuoteBook`, and
`save` writes what changed with executemany statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import (
    Boolean,
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
    UniqueConstraint,
    Uuid,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from services.quote_svc.domain import format_quote_number
from services.quote_svc.model import (
    Opportunity,
    Quote,
)
from services.quote_svc.pricing import PriceItem
from services.quote_svc.rows import (
    opportunity_from_row,
    price_from_row,
    quote_from_row,
    row_from_opportunity,
    row_from_price,
    row_from_quote,
)
from shared.db import any_of, insert_many, runtime_tables, upsert_many

SCHEMA = "quote_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

opportunities = Table(
    "opportunities",
    metadata,
    # The opportunity id is minted by lead_svc and is the natural key of a qualified lead's
    # opportunity: a concurrent second insert fails here instead of opening it twice.
    Column("opportunity_id", Uuid, primary_key=True),
    Column("lead_id", Text, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("contact", JSONB, nullable=False),
    Column("currency", Text, nullable=False),
    Column("estimated_revenue", Numeric, nullable=False),
    Column("revenue_given", Boolean, nullable=False),
    Column("estimated_close_date", Date, nullable=False),
    Column("probability", Integer, nullable=False),
    Column("pipeline_phase", Text, nullable=False),
    Column("actual_revenue", Numeric),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

quotes = Table(
    "quotes",
    metadata,
    Column("quote_id", Uuid, primary_key=True),
    Column(
        "opportunity_id",
        Uuid,
        ForeignKey(f"{SCHEMA}.opportunities.opportunity_id"),
        nullable=False,
    ),
    Column("lead_id", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("quote_number", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("price_list_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("totals", JSONB, nullable=False),
    Column("payment_terms", Text),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("customer_po", Text),
    Column("accepted_by", Text),
    Column("accepted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("opportunity_id", "revision"),
    UniqueConstraint("quote_number", "revision"),
    # At most one open (Draft or Active) revision per opportunity: what every decision assumes.
    Index(
        "uq_quotes_one_open_per_opportunity",
        "opportunity_id",
        unique=True,
        postgresql_where=text("state IN ('draft', 'active')"),
    ),
)

price_list_items = Table(
    "price_list_items",
    metadata,
    Column("price_list_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("unit_price", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("tax_rate", Numeric, nullable=False),
    Column("unit", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

quote_counters = Table(
    "quote_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)


@dataclass
class QuoteBook:
    """The opportunities, quotes, prices and counters one batch works on, and what it changed."""

    opportunities: dict[UUID, Opportunity] = field(default_factory=dict)
    quotes: dict[UUID, Quote] = field(default_factory=dict)
    prices: dict[str, dict[str, PriceItem]] = field(default_factory=dict)
    counters: dict[int, int] = field(default_factory=dict)
    by_lead: dict[str, UUID] = field(default_factory=dict)
    # Rows read from the database are updated; the others are inserted (see QuoteStore.save).
    stored_opportunities: set[UUID] = field(default_factory=set)
    stored_quotes: set[UUID] = field(default_factory=set)
    changed_opportunities: dict[UUID, Opportunity] = field(default_factory=dict)
    changed_quotes: dict[UUID, Quote] = field(default_factory=dict)
    changed_prices: dict[tuple[str, str], PriceItem] = field(default_factory=dict)
    changed_counters: set[int] = field(default_factory=set)

    def opportunity(self, opportunity_id: UUID) -> Opportunity | None:
        return self.opportunities.get(opportunity_id)

    def opportunity_of_lead(self, lead_id: str) -> Opportunity | None:
        opportunity_id = self.by_lead.get(lead_id)
        return self.opportunities.get(opportunity_id) if opportunity_id else None

    def quote(self, quote_id: UUID) -> Quote | None:
        return self.quotes.get(quote_id)

    def revisions(self, opportunity_id: UUID) -> list[Quote]:
        return [q for q in self.quotes.values() if q.opportunity_id == opportunity_id]

    def catalog(self, price_list_id: str) -> Mapping[str, PriceItem]:
        return self.prices.get(price_list_id, {})

    def put_price(self, item: PriceItem) -> None:
        # Last write wins: the compacted topic keeps per-item order (one key, one partition).
        self.prices.setdefault(item.price_list_id, {})[item.sku] = item
        self.changed_prices[(item.price_list_id, item.sku)] = item

    def peek_quote_number(self, year: int) -> str:
        return format_quote_number(year, self.counters.get(year, 0) + 1)

    def take_quote_number(self, year: int) -> str:
        number = self.peek_quote_number(year)
        self.counters[year] = self.counters.get(year, 0) + 1
        self.changed_counters.add(year)
        return number

    def add_stored(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity
        self.by_lead[opportunity.lead_id] = opportunity.opportunity_id
        self.stored_opportunities.add(opportunity.opportunity_id)

    def put_opportunity(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity
        self.by_lead[opportunity.lead_id] = opportunity.opportunity_id
        self.changed_opportunities[opportunity.opportunity_id] = opportunity

    def put_quote(self, quote: Quote) -> None:
        self.quotes[quote.quote_id] = quote
        self.changed_quotes[quote.quote_id] = quote


class QuoteStore:
    """Postgres adapter of quote_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(
        self,
        conn: AsyncConnection,
        *,
        opportunity_ids: Iterable[UUID] = (),
        lead_ids: Iterable[str] = (),
        quote_ids: Iterable[UUID] = (),
        price_list_ids: Iterable[str] = (),
        skus: Iterable[str] = (),
        counter_year: int | None = None,
    ) -> QuoteBook:
        book = QuoteBook()
        opp_ids = set(opportunity_ids)
        wanted_quotes = sorted(set(quote_ids))
        if wanted_quotes:
            # Unlocked: only to find the opportunities; their rows are locked below, and the
            # quotes re-read under that lock.
            rows = await conn.execute(
                select(quotes.c.opportunity_id).where(any_of(quotes.c.quote_id, wanted_quotes))
            )
            opp_ids.update(row.opportunity_id for row in rows)
        leads = sorted(set(lead_ids))
        if opp_ids or leads:
            # Locked, in key order: two members briefly owning one partition during a rebalance
            # serialise on the opportunity, and the quote rows follow it in the same order.
            rows = await conn.execute(
                select(opportunities)
                .where(
                    or_(
                        any_of(opportunities.c.opportunity_id, sorted(opp_ids)),
                        any_of(opportunities.c.lead_id, leads),
                    )
                )
                .order_by(opportunities.c.opportunity_id)
                .with_for_update()
            )
            for row in rows:
                book.add_stored(opportunity_from_row(row))
        if book.opportunities:
            rows = await conn.execute(
                select(quotes)
                .where(any_of(quotes.c.opportunity_id, sorted(book.opportunities)))
                .order_by(quotes.c.quote_id)
                .with_for_update()
            )
            for row in rows:
                book.quotes[row.quote_id] = quote_from_row(row)
        book.stored_quotes = set(book.quotes)
        lists = sorted({*price_list_ids, *(q.price_list_id for q in book.quotes.values())})
        wanted_skus = sorted(set(skus))
        if lists and wanted_skus:
            rows = await conn.execute(
                select(price_list_items).where(
                    any_of(price_list_items.c.price_list_id, lists),
                    any_of(price_list_items.c.sku, wanted_skus),
                )
            )
            for row in rows:
                item = price_from_row(row)
                book.prices.setdefault(item.price_list_id, {})[item.sku] = item
        if counter_year is not None:
            book.counters[counter_year] = await self._lock_counter(conn, counter_year)
        return book

    async def _lock_counter(self, conn: AsyncConnection, year: int) -> int:
        # The row lock serialises quote numbering across workers until the batch commits; a
        # batch that rolls back gives its numbers back, a crash after commit cannot reuse them.
        await insert_many(conn, quote_counters, [{"year": year, "last": 0}], ignore_conflicts=True)
        last = await conn.scalar(
            select(quote_counters.c.last).where(quote_counters.c.year == year).with_for_update()
        )
        return int(last or 0)

    async def save(self, conn: AsyncConnection, book: QuoteBook) -> None:
        await upsert_many(
            conn,
            price_list_items,
            [row_from_price(item) for item in book.changed_prices.values()],
            ["price_list_id", "sku"],
        )
        if book.changed_counters:
            await conn.execute(
                update(quote_counters)
                .where(quote_counters.c.year == bindparam("b_year"))
                .values(last=bindparam("b_last")),
                [{"b_year": y, "b_last": book.counters[y]} for y in sorted(book.changed_counters)],
            )
        changed = book.changed_opportunities.values()
        await upsert_many(
            conn,
            opportunities,
            [
                row_from_opportunity(o)
                for o in changed
                if o.opportunity_id in book.stored_opportunities
            ],
            ["opportunity_id"],
        )
        new = [
            row_from_opportunity(o)
            for o in changed
            if o.opportunity_id not in book.stored_opportunities
        ]
        if new:
            # A plain INSERT on purpose: a twin that another member committed meanwhile makes
            # the batch fail and replay, and the replay finds the opportunity and does nothing.
            await conn.execute(opportunities.insert(), new)
        # Existing revisions first: closing the open one before inserting its successor keeps
        # the one-open-quote index satisfied at every statement.
        changed_quotes = book.changed_quotes.values()
        await upsert_many(
            conn,
            quotes,
            [row_from_quote(q) for q in changed_quotes if q.quote_id in book.stored_quotes],
            ["quote_id"],
        )
        new_quotes = [
            row_from_quote(q) for q in changed_quotes if q.quote_id not in book.stored_quotes
        ]
        if new_quotes:
            await conn.execute(quotes.insert(), new_quotes)
