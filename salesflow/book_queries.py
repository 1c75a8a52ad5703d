"""The read-only SQL behind `salesflow receivables`, `statement` and `report`.

The operator's command reads the services' tables by SQL, never through a service's code (a
tool must not depend on a service's internals, and a report must work while a worker is down).
Every read runs in one REPEATABLE READ, READ ONLY transaction: the figures of one report are one
snapshot, and the database refuses any write that slipped in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from salesflow.pipeline_report import LedgerTotal, PipelineFigures, StateCount
from salesflow.receivables import KindSum
from salesflow.statement import LedgerEntry
from shared.db import make_engine
from shared.db_roles import READER

_UNDEFINED = ("42P01", "3F000")  # undefined table, undefined schema


_MAY_READ_AS_READER = text(
    "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :reader"
    " AND pg_has_role(current_user, oid, 'MEMBER'))"
)


class MissingTablesError(LookupError):
    """A table the reports read is not there: a service's schema is not migrated."""


@asynccontextmanager
async def read_only(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = make_engine(database_url, pool_size=1, application_name="salesflow-reports")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            # Least privilege: whoever connects (an operator as the database's owner), the
            # reports read as the read-only reporting role where there is one.
            if await conn.scalar(_MAY_READ_AS_READER, {"reader": READER}):
                await conn.execute(text(f'SET LOCAL ROLE "{READER}"'))
            yield conn
            await conn.rollback()
    except ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) in _UNDEFINED:
            message = f"{error.orig}: run `salesflow migrate` first"
            raise MissingTablesError(message) from None
        raise
    except OSError as error:  # refused, timed out: the driver's errors before a session
        raise ConnectionError(f"cannot reach PostgreSQL: {error}") from None
    finally:
        await engine.dispose()


# The latest name invoice_svc holds for each account: its invoices', else its credit's.
_NAMES = """
    SELECT DISTINCT ON (account_id) account_id, account_name FROM (
        SELECT account_id, account_name, created_at AS seen FROM invoice_svc.invoices
        WHERE account_id IS NOT NULL AND account_name IS NOT NULL
        UNION ALL
        SELECT account_id, account_name, '-infinity'::timestamptz FROM invoice_svc.account_credits
    ) named
    ORDER BY account_id, seen DESC
"""
_ACCOUNT_NAMES = text(
    f"SELECT account_id, account_name FROM ({_NAMES}) n "  # noqa: S608 - a constant subquery
    "WHERE CAST(:ids AS uuid[]) IS NULL OR account_id = ANY(CAST(:ids AS uuid[]))"
)
_ACCOUNTS_NAMED = text(
    f"SELECT account_id, account_name FROM ({_NAMES}) n "  # noqa: S608 - a constant subquery
    "WHERE account_name ILIKE :pattern ESCAPE '\\' ORDER BY account_name, account_id"
)
_KIND_SUMS = text(
    """
    SELECT account_id, currency, invoice_id, kind, sum(amount) AS amount,
           max(due_date) AS due_date
    FROM invoice_svc.receivable_entries
    WHERE occurred_on <= :as_of
      AND (CAST(:ids AS uuid[]) IS NULL OR account_id = ANY(CAST(:ids AS uuid[])))
    GROUP BY account_id, currency, invoice_id, kind
    """
)
_ENTRIES = text(
    """
    SELECT e.entry_id, e.currency, e.kind, e.document_id, e.document_number, e.invoice_id,
           e.amount, e.occurred_on, e.due_date, i.invoice_number
    FROM invoice_svc.receivable_entries e
    LEFT JOIN invoice_svc.invoices i ON i.invoice_id = e.invoice_id
    WHERE e.account_id = :account_id
      AND (CAST(:currency AS text) IS NULL OR e.currency = CAST(:currency AS text))
      AND (CAST(:until AS date) IS NULL OR e.occurred_on <= CAST(:until AS date))
    ORDER BY e.currency, e.occurred_on, e.entry_id
    """
)


def name_pattern(query: str) -> str:
    """An ILIKE pattern matching names that contain `query` (its % and _ taken literally)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def accounts_named(conn: AsyncConnection, query: str) -> list[tuple[UUID, str]]:
    """Accounts whose name contains `query`, case-insensitively."""
    result = await conn.execute(_ACCOUNTS_NAMED, {"pattern": name_pattern(query)})
    return [(row.account_id, row.account_name) for row in result]


async def account_names(
    conn: AsyncConnection, account_ids: Sequence[UUID] | None = None
) -> dict[UUID, str]:
    ids = list(account_ids) if account_ids is not None else None
    result = await conn.execute(_ACCOUNT_NAMES, {"ids": ids})
    return {row.account_id: row.account_name for row in result}


async def kind_sums(
    conn: AsyncConnection, as_of: date, account_ids: Sequence[UUID] | None = None
) -> list[KindSum]:
    """Entries up to `as_of` summed per account, currency, invoice and kind (None: all)."""
    ids = list(account_ids) if account_ids is not None else None
    result = await conn.execute(_KIND_SUMS, {"as_of": as_of, "ids": ids})
    return [
        KindSum(r.account_id, r.currency, r.invoice_id, r.kind, r.amount, r.due_date)
        for r in result
    ]


async def ledger_entries(
    conn: AsyncConnection, account_id: UUID, currency: str | None, until: date | None
) -> dict[str, list[LedgerEntry]]:
    """The account's entries (up to `until`) by currency, in date order."""
    params = {"account_id": account_id, "currency": currency, "until": until}
    found: dict[str, list[LedgerEntry]] = {}
    for r in await conn.execute(_ENTRIES, params):
        found.setdefault(r.currency, []).append(
            LedgerEntry(
                r.entry_id,
                r.kind,
                r.document_id,
                r.document_number,
                r.invoice_id,
                r.amount,
                r.occurred_on,
                r.due_date,
                r.invoice_number,
            )
        )
    return found


_STATE_COUNTS = {
    "leads": "SELECT state, count(*) AS n FROM lead_svc.leads GROUP BY state",
    "quotes": "SELECT state, count(*) AS n FROM quote_svc.quotes GROUP BY state",
}
_STATE_AMOUNTS = {
    # An opportunity's worth: estimated revenue while open or lost, actual revenue once won.
    "opportunities": """
        SELECT state, currency, count(*) AS n,
               sum(CASE WHEN state = 'won' THEN coalesce(actual_revenue, estimated_revenue)
                        ELSE estimated_revenue END) AS amount
        FROM quote_svc.opportunities GROUP BY state, currency
    """,
    "orders": """
        SELECT state, currency, count(*) AS n, sum(grand_total) AS amount
        FROM order_svc.orders GROUP BY state, currency
    """,
    "invoices": """
        SELECT state, currency, count(*) AS n, sum(grand_total) AS amount
        FROM invoice_svc.invoices GROUP BY state, currency
    """,
    # Read before what they name (their order, its acknowledgement, their ERP invoice) and
    # waiting for it: what stays here names something that never arrived.
    "held": """
        SELECT 'erp_invoice' AS state, currency, count(*) AS n, sum(grand_total) AS amount
        FROM invoice_svc.pending_external_invoices GROUP BY currency
        UNION ALL
        SELECT 'payment' AS state, currency, count(*) AS n, sum(amount) AS amount
        FROM invoice_svc.held_payments GROUP BY currency
    """,
}
_LEDGER = text(
    """
    SELECT currency, kind, count(DISTINCT document_id) AS documents, sum(amount) AS amount,
           coalesce(sum(amount) FILTER (WHERE invoice_id IS NULL), 0) AS on_credit
    FROM invoice_svc.receivable_entries GROUP BY currency, kind
    """
)


async def pipeline_figures(conn: AsyncConnection) -> PipelineFigures:
    counts = {}
    for name, sql in _STATE_COUNTS.items():
        result = await conn.execute(text(sql))
        counts[name] = tuple(StateCount(r.state, r.n) for r in result)
    for name, sql in _STATE_AMOUNTS.items():
        result = await conn.execute(text(sql))
        counts[name] = tuple(StateCount(r.state, r.n, r.currency, r.amount) for r in result)
    ledger = tuple(
        LedgerTotal(r.currency, r.kind, r.documents, r.amount, r.on_credit)
        for r in await conn.execute(_LEDGER)
    )
    # The transaction's start: the moment of the snapshot every figure above was read from.
    read_at: datetime = (await conn.execute(text("SELECT now()"))).scalar_one()
    return PipelineFigures(
        read_at=read_at.astimezone(UTC),
        leads=counts["leads"],
        opportunities=counts["opportunities"],
        quotes=counts["quotes"],
        orders=counts["orders"],
        invoices=counts["invoices"],
        ledger=ledger,
        held=counts["held"],
    )
