"""Receivables per account and currency as of a date (`salesflow receivables`).

What was invoiced, credited, paid and refunded, what is outstanding, the customer credit not yet
applied, and the open invoice amounts aged by days past due in ERPNext's Accounts Receivable
buckets. Everything is derived from invoice_svc's receivable entries (see the comment over
`receivable_entries` in services/invoice_svc/store/tables.py): per account and currency,
outstanding = the sum of the entries = invoiced - credited - paid + refunded; an invoice's open
amount is the sum over its invoice id; the customer credit is minus the sum over no invoice.

Pure: rows in, values and text out; salesflow.book_queries reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.due import days_past_due
from salesflow.rendering import OutputFormat, amount_text, csv_text, json_text, table_text

ZERO = Decimal(0)
AGEING = ("current", "1-30", "31-60", "61-90", "over 90")
# The upper bound in days past due of each bucket after `current`; past the last: `over 90`.
_AGEING_LIMITS = (30, 60, 90)
FIGURES = ("invoiced", "credited", "paid", "refunded", "outstanding", "unapplied_credit")


@dataclass(frozen=True, slots=True)
class KindSum:
    """The sum of one kind of entry on one invoice of an account, up to the as-of date.

    `invoice_id` None: the account's customer credit. `due_date` is on `invoice` rows only.
    """

    account_id: UUID
    currency: str
    invoice_id: UUID | None
    kind: str
    amount: Decimal
    due_date: date | None = None


def ageing_bucket(due_date: date | None, as_of: date) -> int:
    """Which of AGEING an amount due on `due_date` falls in as of `as_of`.

    Due today or later is `current` (not yet overdue). An open amount without a known due date
    (an invoice row outside the data read) counts as current rather than guessed overdue. Days
    are counted by `contracts.due`, as invoice_svc's dunning counts them.
    """
    if due_date is None:
        return 0
    days = days_past_due(due_date, as_of)
    if days <= 0:
        return 0
    for index, limit in enumerate(_AGEING_LIMITS, start=1):
        if days <= limit:
            return index
    return len(AGEING) - 1


@dataclass(frozen=True, slots=True)
class Receivable:
    """One account's receivable in one currency; account_id None: a currency's totals row."""

    account_id: UUID | None
    account_name: str | None
    currency: str
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    outstanding: Decimal = ZERO
    unapplied_credit: Decimal = ZERO
    ageing: tuple[Decimal, ...] = field(default=(ZERO,) * len(AGEING))

    @property
    def is_settled(self) -> bool:
        """Nothing open: no amount owed, no credit held, no invoice with money left on it."""
        return not (self.outstanding or self.unapplied_credit or any(self.ageing))

    def figure(self, name: str) -> Decimal:
        value: Decimal = getattr(self, name)
        return value


@dataclass
class _Open:
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    outstanding: Decimal = ZERO
    credit_side: Decimal = ZERO
    invoices: dict[UUID, Decimal] = field(default_factory=dict)
    due: dict[UUID, date] = field(default_factory=dict)


def receivables(
    sums: Iterable[KindSum], as_of: date, names: Mapping[UUID, str] | None = None
) -> list[Receivable]:
    """Every account and currency in `sums`, by account name (unnamed last), id, currency."""
    books: dict[tuple[UUID, str], _Open] = {}
    for row in sums:
        book = books.setdefault((row.account_id, row.currency), _Open())
        book.outstanding += row.amount
        if row.kind == "invoice":
            book.invoiced += row.amount
        elif row.kind == "credit_note":
            book.credited -= row.amount
        elif row.kind == "payment":
            book.paid -= row.amount
        elif row.kind == "refund":
            book.refunded += row.amount
        if row.invoice_id is None:
            book.credit_side += row.amount
        else:
            book.invoices[row.invoice_id] = book.invoices.get(row.invoice_id, ZERO) + row.amount
            if row.due_date is not None:
                book.due[row.invoice_id] = row.due_date
    known = names or {}
    found = []
    for (account_id, currency), book in books.items():
        ageing = [ZERO] * len(AGEING)
        for invoice_id, open_amount in book.invoices.items():
            ageing[ageing_bucket(book.due.get(invoice_id), as_of)] += open_amount
        found.append(
            Receivable(
                account_id,
                known.get(account_id),
                currency,
                invoiced=book.invoiced,
                credited=book.credited,
                paid=book.paid,
                refunded=book.refunded,
                outstanding=book.outstanding,
                unapplied_credit=-book.credit_side,
                ageing=tuple(ageing),
            )
        )
    return sorted(found, key=_by_name)


def _by_name(row: Receivable) -> tuple[bool, str, str, str]:
    """Named accounts by name (any case), then those invoice_svc holds no name for."""
    name = row.account_name
    return name is None, (name or "").casefold(), str(row.account_id), row.currency


def currency_totals(rows: Iterable[Receivable]) -> list[Receivable]:
    """One totals row per currency (account_id None), in currency order."""
    totals: dict[str, Receivable] = {}
    for row in rows:
        total = totals.get(row.currency) or Receivable(None, None, row.currency)
        totals[row.currency] = Receivable(
            None,
            None,
            row.currency,
            invoiced=total.invoiced + row.invoiced,
            credited=total.credited + row.credited,
            paid=total.paid + row.paid,
            refunded=total.refunded + row.refunded,
            outstanding=total.outstanding + row.outstanding,
            unapplied_credit=total.unapplied_credit + row.unapplied_credit,
            ageing=tuple(a + b for a, b in zip(total.ageing, row.ageing, strict=True)),
        )
    return [totals[currency] for currency in sorted(totals)]


_COLUMNS = ("currency", *FIGURES, *AGEING)


def _cells(row: Receivable) -> list[str]:
    figures = [amount_text(row.figure(name), row.currency) for name in FIGURES]
    ageing = [amount_text(amount, row.currency) for amount in row.ageing]
    return [row.currency, *figures, *ageing]


def _as_json(row: Receivable) -> dict[str, Any]:
    cells = _cells(row)
    values = dict(zip(_COLUMNS, cells, strict=True))
    ageing = {name: values.pop(name) for name in AGEING}
    head = {"account_id": row.account_id, "account_name": row.account_name}
    if row.account_id is None:
        return {**values, "ageing": ageing}
    return {**head, **values, "ageing": ageing}


def render_receivables(rows: list[Receivable], as_of: date, output: OutputFormat) -> str:
    """The receivables as a table or CSV (each with a totals row per currency) or JSON."""
    totals = currency_totals(rows)
    if output is OutputFormat.JSON:
        return json_text(
            {
                "as_of": as_of,
                "receivables": [_as_json(r) for r in rows],
                "totals": [_as_json(t) for t in totals],
            }
        )
    if output is OutputFormat.CSV:
        headers = ["account_id", "account_name", *_COLUMNS]
        body = [[str(r.account_id), r.account_name or "", *_cells(r)] for r in rows]
        body += [["", "total", *_cells(t)] for t in totals]
        return csv_text(headers, body)
    headers = ["account", *(name.replace("_", " ") for name in _COLUMNS)]
    body = [[r.account_name or str(r.account_id), *_cells(r)] for r in rows]
    body += [["total", *_cells(t)] for t in totals]
    title = f"Receivables as of {as_of.isoformat()} (ageing: open invoice amounts by days past due)"
    return f"{title}\n{table_text(headers, body, right=range(2, len(headers)))}"
