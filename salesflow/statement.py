"""An account's statement in one currency (`salesflow statement`): every document and payment in
date order with a running balance that ends at the account's outstanding.

Each receivable entry is a line, except the pairs `to_credit` and `credit_applied` (money moved
between an invoice and the customer credit, one entry on each side, summing to zero): a pair is
ONE line, shown with its invoice-side amount in `moved` and no change to the balance, because
moving money between an invoice and the customer's credit changes what is owed on each, not what
the account owes. So the balance is the running sum of the entries, and the closing balance is
the outstanding of `salesflow receivables` as of the same date.

Pure: entries in, lines and text out; salesflow.book_queries reads the entries.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from salesflow.rendering import OutputFormat, amount_text, csv_text, json_text, table_text

ZERO = Decimal(0)
PAIRED = frozenset({"to_credit", "credit_applied"})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of invoice_svc.receivable_entries; invoice_number from the invoices table when
    the entry names an invoice (None if that row is missing)."""

    entry_id: int
    kind: str
    document_id: str
    document_number: str
    invoice_id: UUID | None
    amount: Decimal
    occurred_on: date
    due_date: date | None = None
    invoice_number: str | None = None


@dataclass(frozen=True, slots=True)
class StatementLine:
    occurred_on: date
    kind: str
    document_number: str
    description: str
    amount: Decimal  # the change of the balance (zero for a matched pair)
    moved: Decimal | None  # a pair's invoice-side amount
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    account_id: UUID
    account_name: str | None
    currency: str
    start: date | None
    end: date | None
    opening_balance: Decimal
    lines: tuple[StatementLine, ...]

    @property
    def closing_balance(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.opening_balance


def _partners(entries: list[LedgerEntry]) -> dict[int, LedgerEntry]:
    """Each pair entry on an invoice -> its counterpart on the customer credit.

    Counterparts are matched on kind, document, date and the opposite amount; one document may
    move money from several invoices (a payment spread over them), hence a queue per key.
    """
    credit_side: dict[tuple[str, str, date, Decimal], deque[LedgerEntry]] = defaultdict(deque)
    for entry in entries:
        if entry.kind in PAIRED and entry.invoice_id is None:
            key = (entry.kind, entry.document_id, entry.occurred_on, -entry.amount)
            credit_side[key].append(entry)
    partners = {}
    for entry in entries:
        if entry.kind in PAIRED and entry.invoice_id is not None:
            key = (entry.kind, entry.document_id, entry.occurred_on, entry.amount)
            queue = credit_side.get(key)
            if queue:
                partners[entry.entry_id] = queue.popleft()
    return partners


def describe(entry: LedgerEntry, invoice: str, *, paired: bool) -> str:
    """What a line says; `invoice` is the number of the invoice the entry names, if any."""
    if entry.kind == "invoice":
        due = entry.due_date
        return f"invoice, due {due.isoformat()}" if due is not None else "invoice"
    if entry.kind == "credit_note":
        return f"credit note on {invoice}" if invoice else "credit note"
    if entry.kind == "payment":
        return f"payment on {invoice}" if invoice else "payment to customer credit"
    if entry.kind == "refund":
        return "refund of customer credit"
    if paired and entry.kind == "credit_applied":
        return f"credit applied to {invoice}"
    if paired and entry.kind == "to_credit":
        return f"moved from {invoice} to customer credit"
    side = f"on {invoice}" if invoice else "on customer credit"
    return f"{entry.kind.replace('_', ' ')} {side} (unpaired)"


def build_statement(
    entries: Iterable[LedgerEntry],
    *,
    account_id: UUID,
    account_name: str | None,
    currency: str,
    start: date | None = None,
    end: date | None = None,
) -> Statement:
    """The statement of `entries` (one account, one currency, any order) from `start` to `end`.

    Entries before `start` make the opening balance; entries after `end` are left out.
    """
    ordered = sorted(
        (e for e in entries if end is None or e.occurred_on <= end),
        key=lambda e: (e.occurred_on, e.entry_id),
    )
    numbers = {e.invoice_id: e.document_number for e in ordered if e.kind == "invoice"}
    opening = sum((e.amount for e in ordered if start is not None and e.occurred_on < start), ZERO)
    shown = [e for e in ordered if start is None or e.occurred_on >= start]
    partners = _partners(shown)
    taken = {partner.entry_id for partner in partners.values()}
    balance = opening
    lines = []
    for entry in shown:
        if entry.entry_id in taken:
            continue
        partner = partners.get(entry.entry_id)
        change = entry.amount + (partner.amount if partner is not None else ZERO)
        balance += change
        invoice = ""
        if entry.invoice_id is not None:
            invoice = entry.invoice_number or numbers.get(entry.invoice_id) or str(entry.invoice_id)
        lines.append(
            StatementLine(
                entry.occurred_on,
                entry.kind,
                entry.document_number,
                describe(entry, invoice, paired=partner is not None),
                change,
                entry.amount if partner is not None else None,
                balance,
            )
        )
    return Statement(account_id, account_name, currency, start, end, opening, tuple(lines))


_HEADERS = ("date", "document", "kind", "description", "amount", "moved", "balance")


def _cells(line: StatementLine, currency: str) -> list[str]:
    moved = amount_text(line.moved, currency) if line.moved is not None else ""
    amount = amount_text(line.amount, currency)
    if line.moved is not None and not line.amount:
        amount = ""  # a pair moves money, it does not change the balance
    return [
        line.occurred_on.isoformat(),
        line.document_number,
        line.kind,
        line.description,
        amount,
        moved,
        amount_text(line.balance, currency),
    ]


def _line_json(line: StatementLine, currency: str) -> dict[str, Any]:
    """A line for programs: `amount` is the change of the balance; `moved` is null but on pairs."""
    return {
        "date": line.occurred_on,
        "document": line.document_number,
        "kind": line.kind,
        "description": line.description,
        "amount": amount_text(line.amount, currency),
        "moved": amount_text(line.moved, currency) if line.moved is not None else None,
        "balance": amount_text(line.balance, currency),
    }


def _as_json(statement: Statement) -> dict[str, Any]:
    currency = statement.currency
    return {
        "account_id": statement.account_id,
        "account_name": statement.account_name,
        "currency": currency,
        "from": statement.start,
        "to": statement.end,
        "opening_balance": amount_text(statement.opening_balance, currency),
        "lines": [_line_json(line, currency) for line in statement.lines],
        "closing_balance": amount_text(statement.closing_balance, currency),
    }


def render_statements(statements: list[Statement], output: OutputFormat) -> str:
    """Statements (one per currency) as tables, CSV (an `opening` row when a start is given and
    a `closing` row) or JSON."""
    if output is OutputFormat.JSON:
        return json_text([_as_json(s) for s in statements])
    if output is OutputFormat.CSV:
        rows = []
        for s in statements:
            c = s.currency
            if s.start is not None:
                start = s.start.isoformat()
                rows.append([c, start, "", "opening", "opening balance", "", "", _amt(s, c, True)])
            rows += [[c, *_cells(line, c)] for line in s.lines]
            end = s.end.isoformat() if s.end else ""
            rows.append([c, end, "", "closing", "closing balance", "", "", _amt(s, c, False)])
        return csv_text(["currency", *_HEADERS], rows)
    blocks = []
    for s in statements:
        c = s.currency
        period = f"from {s.start.isoformat()} " if s.start else ""
        period += f"to {s.end.isoformat()}" if s.end else "to date"
        title = f"Statement of {s.account_name or s.account_id} ({s.account_id}), {c}, {period}"
        rows = []
        if s.start is not None:
            rows.append([s.start.isoformat(), "", "", "opening balance", "", "", _amt(s, c, True)])
        rows += [_cells(line, c) for line in s.lines]
        rows.append(["", "", "", "closing balance", "", "", _amt(s, c, False)])
        blocks.append(f"{title}\n{table_text(_HEADERS, rows, right=(4, 5, 6))}")
    return "\n\n".join(blocks)


def _amt(statement: Statement, currency: str, opening: bool) -> str:
    value = statement.opening_balance if opening else statement.closing_balance
    return amount_text(value, currency)
