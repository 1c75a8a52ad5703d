"""Postgres adapter of quote_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path; and the
translation between the aggregates and their rows (the lines as JSONB).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import decode, encode
from contracts.leads import LeadQualified
from services.quote_svc.domain import (
    ExchangeRate,
    QuoteState,
)
from services.quote_svc.store.book import QuoteBook, Touches
from services.quote_svc.store.parties import (
    UPSERT_ACCOUNTS,
    account_from_row,
    row_from_account,
)
from services.quote_svc.store.rows import (
    opportunity_from_row,
    price_from_row,
    quote_from_row,
    row_from_opportunity,
    row_from_price,
    row_from_quote,
    row_from_volume,
    volume_from_row,
)
from services.quote_svc.store.tables import (
    accounts,
    exchange_rates,
    opportunities,
    price_list_items,
    quote_counters,
    quotes,
    volume_discounts,
    waiting_qualifications,
)
from shared.counters import YearCounters
from shared.db import any_of, insert_many, upsert_many
from shared.messages import Incoming

_COUNTERS = YearCounters(quote_counters)


def _row_from_waiting(book: QuoteBook, lead_id: str) -> dict[str, Any]:
    msg, (from_currency, to_currency), at = book.waiting[lead_id]
    return {
        "lead_id": lead_id,
        "from_currency": from_currency,
        "to_currency": to_currency,
        "envelope": encode(msg.envelope).decode(),
        "topic": msg.topic,
        "received_at": at,
    }


def _waiting_from_row(
    row: Row[Any],
) -> tuple[Incoming[LeadQualified], tuple[str, str], datetime]:
    envelope = decode(row.envelope.encode())
    # Offsets are not kept: the held message is only ever the cause of what it opens.
    msg: Incoming[LeadQualified] = Incoming(envelope, row.topic, -1, -1)
    return msg, (row.from_currency, row.to_currency), row.received_at


def _with_waiting(touches: Touches, leads: list[LeadQualified]) -> Touches:
    """Touches widened by what the waiting qualifications need (their leads, prices, accounts)."""
    if not leads:
        return touches
    return replace(
        touches,
        opportunity_ids=touches.opportunity_ids | {lead.opportunity_id for lead in leads},
        lead_ids=touches.lead_ids | {lead.lead_id for lead in leads},
        skus=touches.skus | {i.sku for lead in leads for i in lead.product_interests},
        account_ids=touches.account_ids | {lead.account_id for lead in leads},
    )


async def _load_waiting(conn: AsyncConnection, book: QuoteBook, touches: Touches) -> Touches:
    """The qualifications waiting for a rate of the batch's pairs, locked (one batch opens
    each), and the touches widened by what they need."""
    if not touches.waiting_pairs:
        return touches
    pairs = {(a, b) for a, b in touches.waiting_pairs} | {(b, a) for a, b in touches.waiting_pairs}
    w = waiting_qualifications.c
    rows = await conn.execute(
        select(waiting_qualifications)
        .where(or_(*(and_(w.from_currency == a, w.to_currency == b) for a, b in sorted(pairs))))
        .order_by(w.lead_id)
        .with_for_update()
    )
    waiting = [_waiting_from_row(row) for row in rows]
    for msg, pair, at in waiting:
        book.waiting[msg.payload.lead_id] = (msg, pair, at)
    return _with_waiting(touches, [msg.payload for msg, _, _ in waiting])


async def _load_rates(conn: AsyncConnection, book: QuoteBook, as_of: date) -> None:
    # Unlocked facts, like the prices: the latest rate per pair up to the day.
    r = exchange_rates.c
    rows = await conn.execute(
        select(exchange_rates)
        .where(r.valid_on <= as_of)
        .order_by(r.from_currency, r.to_currency, r.valid_on.desc())
        .distinct(r.from_currency, r.to_currency)
    )
    for row in rows:
        book.rates.add(ExchangeRate(row.from_currency, row.to_currency, row.valid_on, row.rate))


async def _load_catalog(conn: AsyncConnection, book: QuoteBook, touches: Touches) -> None:
    """Prices and volume discount lists of the skus the batch prices, from the lists it uses."""
    lists = sorted({*touches.price_list_ids, *(q.price_list_id for q in book.quotes.values())})
    wanted_skus = sorted(touches.skus)
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
        rows = await conn.execute(
            select(volume_discounts).where(
                any_of(volume_discounts.c.price_list_id, lists),
                any_of(volume_discounts.c.sku, wanted_skus),
            )
        )
        for row in rows:
            listed = volume_from_row(row)
            book.volumes.setdefault(listed.price_list_id, {})[listed.sku] = listed


class QuoteStore:
    """Postgres adapter of quote_svc (SQLAlchemy Core, no ORM on the hot path).

    Keys are bound as arrays (`any_of`) and rows written through `insert_many` / `upsert_many`,
    so each statement has one SQL text whatever the batch holds.
    """

    async def load(self, conn: AsyncConnection, touches: Touches) -> QuoteBook:
        book = QuoteBook()
        touches = await _load_waiting(conn, book, touches)
        opp_ids = set(touches.opportunity_ids)
        wanted_quotes = sorted(touches.quote_ids)
        if wanted_quotes:
            # Unlocked: only to find the opportunities; their rows are locked below, and the
            # quotes re-read under that lock.
            rows = await conn.execute(
                select(quotes.c.opportunity_id).where(any_of(quotes.c.quote_id, wanted_quotes))
            )
            opp_ids.update(row.opportunity_id for row in rows)
        if touches.expiring_as_of is not None:
            # Unlocked, like the lookup above: the rule is decided again under the locks.
            rows = await conn.execute(
                select(quotes.c.opportunity_id).where(
                    quotes.c.state == QuoteState.ACTIVE.value,
                    quotes.c.valid_until < touches.expiring_as_of,
                )
            )
            opp_ids.update(row.opportunity_id for row in rows)
        leads = sorted(touches.lead_ids)
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
                book.add_stored_quote(quote_from_row(row))
        await _load_catalog(conn, book, touches)
        wanted_accounts = sorted(
            {*touches.account_ids, *(o.customer.account_id for o in book.opportunities.values())}
        )
        if wanted_accounts:
            # Unlocked, like the prices: facts from another service's master data, written with
            # a version check instead (UPSERT_ACCOUNTS).
            rows = await conn.execute(
                select(accounts).where(any_of(accounts.c.account_id, wanted_accounts))
            )
            for row in rows:
                account = account_from_row(row)
                book.accounts[account.account_id] = account
        if touches.rates_as_of is not None:
            await _load_rates(conn, book, touches.rates_as_of)
        if touches.counter_year is not None:
            # Locked last, and only by batches that may open opportunities: the row lock
            # serialises quote numbering across workers until the batch commits.
            book.counters.update(await _COUNTERS.lock(conn, [touches.counter_year]))
        return book

    async def save(self, conn: AsyncConnection, book: QuoteBook) -> None:
        await upsert_many(
            conn,
            price_list_items,
            [row_from_price(item) for item in book.changed_prices.values()],
            ["price_list_id", "sku"],
        )
        await upsert_many(
            conn,
            volume_discounts,
            [row_from_volume(v) for v in book.changed_volumes.values()],
            ["price_list_id", "sku"],
        )
        await upsert_many(
            conn,
            exchange_rates,
            [
                {
                    "from_currency": r.from_currency,
                    "to_currency": r.to_currency,
                    "valid_on": r.valid_on,
                    "rate": r.rate,
                }
                for r in book.changed_rates
            ],
            ["from_currency", "to_currency", "valid_on"],
        )
        held = sorted(book.new_waiting - book.released_waiting)
        await insert_many(
            conn, waiting_qualifications, [_row_from_waiting(book, lead_id) for lead_id in held]
        )
        released = sorted(book.released_waiting - book.new_waiting)
        if released:
            await conn.execute(
                delete(waiting_qualifications).where(
                    any_of(waiting_qualifications.c.lead_id, released)
                )
            )
        if book.changed_accounts:
            await conn.execute(
                UPSERT_ACCOUNTS,
                [row_from_account(book.changed_accounts[k]) for k in sorted(book.changed_accounts)],
            )
        await _COUNTERS.save(conn, {year: book.counters[year] for year in book.changed_counters})
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
        # A plain INSERT on purpose: a twin that another member committed meanwhile makes the
        # batch fail and replay, and the replay finds the opportunity and does nothing.
        await insert_many(
            conn,
            opportunities,
            [
                row_from_opportunity(o)
                for o in changed
                if o.opportunity_id not in book.stored_opportunities
            ],
        )
        # Existing revisions first: closing the open one before inserting its successor keeps
        # the one-open-quote index satisfied at every statement.
        changed_quotes = book.changed_quotes.values()
        await upsert_many(
            conn,
            quotes,
            [row_from_quote(q) for q in changed_quotes if q.quote_id in book.stored_quotes],
            ["quote_id"],
        )
        await insert_many(
            conn,
            quotes,
            [row_from_quote(q) for q in changed_quotes if q.quote_id not in book.stored_quotes],
        )
