"""`salesflow report time`: what the time rules did, read from the services' tables (one
snapshot): quotes expired, quotes still Active with their last valid day, invoices announced
overdue, reminders sent by level, and the hand-offs alerted as stale."""

from __future__ import annotations

from sqlalchemy import text

from salesflow.book_queries import read_only
from salesflow.rendering import table_text

_FIGURES: tuple[tuple[str, str], ...] = (
    (
        "quotes expired",
        "SELECT count(*) FROM quote_svc.quotes WHERE state = 'closed' "
        "AND status_reason = 'expired'",
    ),
    ("quotes active", "SELECT count(*) FROM quote_svc.quotes WHERE state = 'active'"),
    (
        "invoices overdue (announced)",
        "SELECT count(*) FROM invoice_svc.invoices WHERE overdue_on IS NOT NULL",
    ),
    (
        "  of them still owing",
        "SELECT count(*) FROM invoice_svc.invoices WHERE overdue_on IS NOT NULL "
        "AND balance_due > 0 AND state <> 'canceled'",
    ),
    (
        "ERP invoices held too long (alerted)",
        "SELECT count(*) FROM invoice_svc.pending_external_invoices WHERE alerted_at IS NOT NULL",
    ),
    (
        "orders the ERP did not acknowledge in time (alerted)",
        "SELECT count(*) FROM order_svc.orders WHERE ack_alerted_at IS NOT NULL",
    ),
)
_LEVELS = (
    "SELECT dunning_level, count(*) FROM invoice_svc.invoices WHERE dunning_level > 0 "
    "GROUP BY dunning_level ORDER BY dunning_level"
)


async def time_text(database_url: str) -> str:
    rows: list[tuple[str, str]] = []
    async with read_only(database_url) as conn:
        for figure, sql in _FIGURES:
            rows.append((figure, str(await conn.scalar(text(sql)) or 0)))
        for level, count in await conn.execute(text(_LEVELS)):
            rows.append((f"invoices reminded, highest level {level}", str(count)))
    return table_text(("time rules", "count"), rows, right=(1,))
