"""`salesflow report reconcile --date D`: what salesflow booked on one day, per currency, for an ERP
team to hold against its own books: orders confirmed, invoices posted, credit notes issued,
payments received and refunds paid out (count and total of each).

Business dates, not processing times: an order by its confirmation (UTC), a document by its
issue date, money by the date it moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from salesflow.book_queries import read_only
from salesflow.rendering import amount_text, json_text, table_text

# (figure, SQL): one row per currency with the day's count and total.
_FIGURES: tuple[tuple[str, str], ...] = (
    (
        "orders confirmed",
        "SELECT currency, count(*), coalesce(sum(grand_total), 0) FROM order_svc.orders "
        "WHERE (confirmed_at AT TIME ZONE 'UTC')::date = :day GROUP BY currency",
    ),
    (
        "invoices posted",
        "SELECT currency, count(*), coalesce(sum(grand_total), 0) FROM invoice_svc.invoices "
        "WHERE issue_date = :day GROUP BY currency",
    ),
    (
        "credit notes",
        "SELECT currency, count(*), coalesce(sum(grand_total), 0) FROM invoice_svc.credit_notes "
        "WHERE issue_date = :day GROUP BY currency",
    ),
    (
        "payments received",
        "SELECT currency, count(*), coalesce(sum(amount), 0) FROM invoice_svc.payments "
        "WHERE (paid_at AT TIME ZONE 'UTC')::date = :day GROUP BY currency",
    ),
    (
        "refunds paid",
        "SELECT currency, count(*), coalesce(sum(amount), 0) FROM invoice_svc.refunds "
        "WHERE (refunded_at AT TIME ZONE 'UTC')::date = :day GROUP BY currency",
    ),
)


@dataclass(frozen=True, slots=True)
class DayFigure:
    figure: str
    currency: str
    count: int
    total: Decimal


async def day_figures(database_url: str, day: date) -> list[DayFigure]:
    found: list[DayFigure] = []
    async with read_only(database_url) as conn:
        for figure, sql in _FIGURES:
            rows = await conn.execute(text(sql), {"day": day})
            found.extend(DayFigure(figure, c, int(n), Decimal(t)) for c, n, t in rows)
    return sorted(found, key=lambda f: (f.currency, [x for x, _ in _FIGURES].index(f.figure)))


def render(day: date, figures: Sequence[DayFigure], output: str) -> str:
    if output == "json":
        return json_text(
            {
                "date": day.isoformat(),
                "figures": [
                    {
                        "figure": f.figure,
                        "currency": f.currency,
                        "count": f.count,
                        "total": str(f.total),
                    }
                    for f in figures
                ],
            }
        )
    if not figures:
        return f"nothing booked on {day.isoformat()}"
    rows = [[f.currency, f.figure, str(f.count), amount_text(f.total, f.currency)] for f in figures]
    table = table_text(["currency", "figure", "count", "total"], rows, right=(2, 3))
    return f"booked on {day.isoformat()} (UTC)\n{table}"
