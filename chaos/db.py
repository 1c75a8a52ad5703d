"""The committed rows a run left: its deals' rows in every service schema, the receivables of
their accounts, the numbering of every native invoice and credit note, and the inbox entries of
the run's event ids; read in one snapshot (REPEATABLE READ), so that documents, entries and
counters committed together are seen together."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from chaos.history import (
    TOTAL_FIELDS,
    BilledOrderRow,
    CreditNoteRow,
    CreditRow,
    DbState,
    EntryRow,
    InvoiceRow,
    LeadRow,
    NumberStats,
    OpportunityRow,
    OrderRow,
    PaymentRow,
    QtyLines,
    QuoteRow,
    RefundRow,
    run_keys,
    totals_of,
)
from contracts.stages import SERVICES

COLS = ", ".join(TOTAL_FIELDS)
OF_RUN = "WHERE deal_id LIKE :d OR deal_id LIKE :p"
# The sequence number of a native document: <prefix>-<year>-<n>.
NUMBERED = {
    "invoice": ("invoices", "invoice_number", "invoice_counters"),
    "credit_note": ("credit_notes", "credit_note_number", "credit_note_counters"),
}


def qty_lines(data: Any) -> QtyLines:
    """(line, quantity) pairs from a JSON list of lines, [[line, qty], ...] or {line: qty}."""
    if isinstance(data, dict):
        pairs = [(int(n), Decimal(str(q))) for n, q in data.items()]
    else:
        pairs = [
            (int(x["line_no"]), Decimal(str(x["quantity"])))
            if isinstance(x, dict)
            else (int(x[0]), Decimal(str(x[1])))
            for x in data or ()
        ]
    return tuple(sorted(pairs))


async def read_db(database_url: str, run_id: str, event_ids: Iterable[UUID]) -> DbState:
    deal, poison = (f"{p}%" for p in run_keys(run_id))
    ids = sorted(set(event_ids))
    db = DbState()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as plain:
            conn = await plain.execution_options(isolation_level="REPEATABLE READ")

            async def rows(sql: str, **more: Any) -> list[Any]:
                return list(await conn.execute(text(sql), {"d": deal, "p": poison, **more}))

            await _stages(db, rows)
            await _billing(db, rows)
            db.numbers = [n for kind in NUMBERED for n in await _numbers(conn, kind)]
            for service in SERVICES:
                seen: set[UUID] = set()
                for i in range(0, len(ids), 5000):
                    chunk = ids[i : i + 5000]
                    result = await conn.execute(
                        text(
                            f"SELECT event_id FROM {service}.inbox "  # noqa: S608 - schema names come from the stage registry
                            "WHERE event_id = ANY(CAST(:ids AS uuid[]))"
                        ),
                        {"ids": chunk},
                    )
                    seen.update(row[0] for row in result)
                db.inbox[service] = seen
                db.outbox_rows[service] = int(
                    await conn.scalar(text(f"SELECT count(*) FROM {service}.outbox")) or 0  # noqa: S608 - schema names come from the stage registry
                )
    finally:
        await engine.dispose()
    return db


async def _stages(db: DbState, rows: Any) -> None:
    for r in await rows(
        "SELECT lead_id, state, opportunity_id FROM lead_svc.leads "
        "WHERE lead_id LIKE :d OR lead_id LIKE :p"
    ):
        db.leads[r.lead_id] = LeadRow(r.lead_id, r.state, r.opportunity_id)
    db.opportunities = [
        OpportunityRow(r.opportunity_id, r.lead_id, r.state)
        for r in await rows(
            "SELECT opportunity_id, lead_id, state FROM quote_svc.opportunities "
            "WHERE lead_id LIKE :d OR lead_id LIKE :p"
        )
    ]
    db.quotes = [
        QuoteRow(
            r.quote_id,
            r.lead_id,
            r.quote_number,
            r.revision,
            r.state,
            totals_of(r.totals),
            r.valid_until,
        )
        for r in await rows(
            "SELECT quote_id, lead_id, quote_number, revision, state, totals, valid_until "
            "FROM quote_svc.quotes WHERE lead_id LIKE :d OR lead_id LIKE :p"
        )
    ]
    db.orders = [
        OrderRow(r.order_id, r.quote_id, r.deal_id, r.state, totals_of(r._mapping))
        for r in await rows(
            f"SELECT order_id, quote_id, deal_id, state, {COLS} FROM order_svc.orders {OF_RUN}"  # noqa: S608 - constant names
        )
    ]


async def _billing(db: DbState, rows: Any) -> None:
    db.billed_orders = [
        BilledOrderRow(
            r.order_id,
            r.deal_id,
            r.state,
            r.billing,
            r.account_id,
            r.currency,
            qty_lines(r.lines),
            qty_lines(r.shipped),
            totals_of(r._mapping),
        )
        for r in await rows(
            f"SELECT order_id, deal_id, state, billing, account_id, currency, lines, shipped, "  # noqa: S608 - constant names
            f"{COLS} FROM invoice_svc.orders {OF_RUN}"
        )
    ]
    db.invoices = [
        InvoiceRow(
            r.invoice_id,
            r.order_id,
            r.deal_id,
            r.state,
            totals_of(r._mapping),
            Decimal(r.amount_paid),
            Decimal(r.balance_due),
            r.kind,
            r.source,
            r.account_id,
            r.currency,
            Decimal(r.amount_credited),
            Decimal(r.credit_applied),
            Decimal(r.moved_to_credit),
            qty_lines(r.lines),
        )
        for r in await rows(
            f"SELECT invoice_id, order_id, deal_id, state, {COLS}, amount_paid, balance_due, "  # noqa: S608 - constant names
            "kind, source, account_id, currency, amount_credited, credit_applied, "
            f"moved_to_credit, lines FROM invoice_svc.invoices {OF_RUN}"
        )
    ]
    db.payments = [
        PaymentRow(r.payment_id, r.invoice_id, Decimal(r.amount))
        for r in await rows(
            "SELECT p.payment_id, p.invoice_id, p.amount FROM invoice_svc.payments p "
            "JOIN invoice_svc.invoices i USING (invoice_id) "
            "WHERE i.deal_id LIKE :d OR i.deal_id LIKE :p"
        )
    ]
    db.credit_notes = [
        CreditNoteRow(
            r.credit_note_id,
            r.credit_note_number,
            r.invoice_id,
            r.order_id,
            r.deal_id,
            r.source,
            totals_of(r._mapping),
            qty_lines(r.order_lines),
        )
        for r in await rows(
            "SELECT credit_note_id, credit_note_number, invoice_id, order_id, deal_id, source, "  # noqa: S608 - constant names
            f"{COLS}, order_lines FROM invoice_svc.credit_notes {OF_RUN}"
        )
    ]
    accounts = sorted({str(o.account_id) for o in db.billed_orders if o.account_id})
    of_accounts = "WHERE account_id = ANY(CAST(:a AS uuid[]))"
    db.entries = [
        EntryRow(r.account_id, r.currency, r.kind, r.document_id, r.invoice_id, Decimal(r.amount))
        for r in await rows(
            "SELECT account_id, currency, kind, document_id, invoice_id, amount "  # noqa: S608 - constant names
            f"FROM invoice_svc.receivable_entries {of_accounts}",
            a=accounts,
        )
    ]
    db.credits = [
        CreditRow(r.account_id, r.currency, Decimal(r.balance))
        for r in await rows(
            f"SELECT account_id, currency, balance FROM invoice_svc.account_credits {of_accounts}",  # noqa: S608 - constant names
            a=accounts,
        )
    ]
    db.refunds = [
        RefundRow(r.refund_id, r.account_id, r.currency, Decimal(r.amount))
        for r in await rows(
            "SELECT refund_id, account_id, currency, amount "  # noqa: S608 - constant names
            f"FROM invoice_svc.refunds {of_accounts}",
            a=accounts,
        )
    ]


async def _numbers(conn: AsyncConnection, kind: str) -> list[NumberStats]:
    """Per year: documents, distinct sequence numbers, lowest, highest, and the counter."""
    table, column, counters = NUMBERED[kind]
    found = await conn.execute(
        text(
            f"WITH n AS (SELECT regexp_match({column}, '^.+-([0-9]{{4}})-([0-9]+)$') AS m "  # noqa: S608 - constant names
            f"FROM invoice_svc.{table} WHERE source = 'native') "
            "SELECT coalesce((m)[1]::int, 0) AS year, count(*) AS documents, "
            "count(DISTINCT (m)[2]::bigint) AS distinct_numbers, "
            "coalesce(min((m)[2]::bigint), 0) AS lowest, "
            "coalesce(max((m)[2]::bigint), 0) AS highest FROM n GROUP BY 1"
        )
    )
    stats = {r.year: r for r in found}
    lasts = {
        int(r.year): int(r.last)
        for r in await conn.execute(text(f"SELECT year, last FROM invoice_svc.{counters}"))  # noqa: S608 - constant names
    }
    return [
        NumberStats(
            kind,
            year,
            int(stats[year].documents) if year in stats else 0,
            int(stats[year].distinct_numbers) if year in stats else 0,
            int(stats[year].lowest) if year in stats else 0,
            int(stats[year].highest) if year in stats else 0,
            lasts.get(year, 0),
        )
        for year in sorted(set(stats) | set(lasts))
    ]


async def outbox_rows(database_url: str) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                s: int(await conn.scalar(text(f"SELECT count(*) FROM {s}.outbox")) or 0)  # noqa: S608 - schema names come from the stage registry
                for s in SERVICES
            }
    finally:
        await engine.dispose()


async def seen_event_ids(database_url: str, wanted: Iterable[UUID]) -> set[UUID]:
    """Which of `wanted` some service's inbox already holds (a tick one of them has seen)."""
    ids = sorted(wanted)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            seen: set[UUID] = set()
            for s in SERVICES:
                rows = await conn.execute(
                    text(f"SELECT event_id FROM {s}.inbox WHERE event_id = ANY(:ids)"),  # noqa: S608 - schema names come from the stage registry
                    {"ids": ids},
                )
                seen.update(row.event_id for row in rows)
            return seen
    finally:
        await engine.dispose()


async def worker_connections(database_url: str) -> dict[str, int]:
    """Connections to this database whose application name is a salesflow service's (every
    worker names its connections after its service, `shared.worker`): service -> count."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT application_name, count(*) AS n FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = ANY(:names) "
                    "GROUP BY application_name"
                ),
                {"names": list(SERVICES)},
            )
            return {row.application_name: int(row.n) for row in rows}
    finally:
        await engine.dispose()
