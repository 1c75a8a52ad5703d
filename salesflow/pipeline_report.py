"""Pipeline and billing figures over the data in PostgreSQL (`salesflow report`), one screen.

Counts by state from each service's own tables; money per currency. The billing figures come
from invoice_svc's receivable entries, like `salesflow receivables`, so that they tie:
outstanding = invoiced - credited - paid + refunded.

Pure: rows in, values and text out; salesflow.book_queries reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from salesflow.rendering import OutputFormat, amount_text, json_text, table_text

ZERO = Decimal(0)

# Display order, lifecycle first; a state not listed here follows in alphabetical order.
_ORDER = (
    "open",
    "draft",
    "active",
    "submitted",
    "qualified",
    "fulfilled",
    "invoiced",
    "won",
    "paid",
    "disqualified",
    "lost",
    "closed",
    "canceled",
)


@dataclass(frozen=True, slots=True)
class StateCount:
    """How many rows of a table are in `state`; with money, per currency (the rows' amount)."""

    state: str
    count: int
    currency: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LedgerTotal:
    """One kind of receivable entry in one currency: distinct documents, the sum of amounts and
    the part of that sum on customer credit (invoice_id null)."""

    currency: str
    kind: str
    documents: int
    amount: Decimal
    on_credit: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PipelineFigures:
    read_at: datetime
    leads: tuple[StateCount, ...]
    opportunities: tuple[StateCount, ...]
    quotes: tuple[StateCount, ...]
    orders: tuple[StateCount, ...]
    invoices: tuple[StateCount, ...]
    ledger: tuple[LedgerTotal, ...]
    # invoice_svc's ERP invoices (`erp_invoice`) and payments (`payment`) held until the order,
    # acknowledgement or invoice they name is read: listed so that one that never arrives shows.
    held: tuple[StateCount, ...] = ()


@dataclass(frozen=True, slots=True)
class Billing:
    """What the receivable entries of one currency add up to."""

    currency: str
    invoices: int = 0
    invoiced: Decimal = ZERO
    credit_notes: int = 0
    credited: Decimal = ZERO
    payments: int = 0
    paid: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO
    outstanding: Decimal = ZERO
    unapplied_credit: Decimal = ZERO


def billing(ledger: Iterable[LedgerTotal]) -> list[Billing]:
    """Per currency: documents and amounts by kind (settling kinds as positive figures), the
    outstanding (the sum of every entry) and the customer credit not applied."""
    found: dict[str, dict[str, Any]] = {}
    for row in ledger:
        figures = found.setdefault(row.currency, {"outstanding": ZERO, "unapplied_credit": ZERO})
        figures["outstanding"] += row.amount
        figures["unapplied_credit"] -= row.on_credit
        if row.kind == "invoice":
            figures.update(invoices=row.documents, invoiced=row.amount)
        elif row.kind == "credit_note":
            figures.update(credit_notes=row.documents, credited=-row.amount)
        elif row.kind == "payment":
            figures.update(payments=row.documents, paid=-row.amount)
        elif row.kind == "refund":
            figures.update(refunds=row.documents, refunded=row.amount)
    return [Billing(currency, **found[currency]) for currency in sorted(found)]


def ordered(rows: Iterable[StateCount]) -> list[StateCount]:
    """Lifecycle order of states, then currency."""

    def key(row: StateCount) -> tuple[int, str, str]:
        rank = _ORDER.index(row.state) if row.state in _ORDER else len(_ORDER)
        return rank, row.state, row.currency or ""

    return sorted(rows, key=key)


def _section(title: str, rows: Sequence[StateCount]) -> list[list[str]]:
    lines = []
    for index, row in enumerate(ordered(rows)):
        amount = ""
        if row.currency is not None and row.amount is not None:
            amount = amount_text(row.amount, row.currency)
        label = title if index == 0 else ""
        lines.append([label, row.state, str(row.count), row.currency or "", amount])
    return lines or [[title, "(none)", "0", "", ""]]


def _billing_rows(totals: Billing) -> list[list[str]]:
    c = totals.currency
    rows = [
        ("invoiced", str(totals.invoices), totals.invoiced),
        ("credit notes", str(totals.credit_notes), totals.credited),
        ("payments", str(totals.payments), totals.paid),
        ("refunds", str(totals.refunds), totals.refunded),
        ("outstanding", "", totals.outstanding),
        ("unapplied credit", "", totals.unapplied_credit),
    ]
    return [
        ["billing" if i == 0 else "", label, count, c, amount_text(amount, c)]
        for i, (label, count, amount) in enumerate(rows)
    ]


def render_report(figures: PipelineFigures, output: OutputFormat) -> str:
    """A table on one screen, or JSON (amounts as strings)."""
    money = billing(figures.ledger)
    if output is OutputFormat.JSON:
        return json_text(_as_json(figures, money))
    rows = [
        *_section("leads", figures.leads),
        *_section("opportunities", figures.opportunities),
        *_section("quotes", figures.quotes),
        *_section("orders", figures.orders),
        *_section("invoices", figures.invoices),
        # Only when something waits: the screen stays one screen.
        *(_section("held", figures.held) if figures.held else []),
    ]
    for totals in money:
        rows += _billing_rows(totals)
    if not money:
        rows.append(["billing", "(no receivable entries)", "", "", ""])
    at = figures.read_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    title = (
        f"Pipeline and billing, read from PostgreSQL at {at}\n"
        "(opportunities: estimated revenue, actual when won; orders and invoices: grand totals)"
    )
    headers = ["", "state", "count", "currency", "amount"]
    return f"{title}\n{table_text(headers, rows, right=(2, 4))}"


def _counts(rows: Iterable[StateCount]) -> list[dict[str, Any]]:
    found = []
    for row in ordered(rows):
        item: dict[str, Any] = {"state": row.state, "count": row.count}
        if row.currency is not None and row.amount is not None:
            item.update(currency=row.currency, amount=amount_text(row.amount, row.currency))
        found.append(item)
    return found


def _as_json(figures: PipelineFigures, money: list[Billing]) -> dict[str, Any]:
    def amounts(totals: Billing) -> dict[str, Any]:
        c = totals.currency
        return {
            "currency": c,
            "invoices": totals.invoices,
            "invoiced": amount_text(totals.invoiced, c),
            "credit_notes": totals.credit_notes,
            "credited": amount_text(totals.credited, c),
            "payments": totals.payments,
            "paid": amount_text(totals.paid, c),
            "refunds": totals.refunds,
            "refunded": amount_text(totals.refunded, c),
            "outstanding": amount_text(totals.outstanding, c),
            "unapplied_credit": amount_text(totals.unapplied_credit, c),
        }

    return {
        "read_at": figures.read_at.isoformat(),
        "leads": _counts(figures.leads),
        "opportunities": _counts(figures.opportunities),
        "quotes": _counts(figures.quotes),
        "orders": _counts(figures.orders),
        "invoices": _counts(figures.invoices),
        "held": _counts(figures.held),
        "billing": [amounts(totals) for totals in money],
    }
