"""Receivables, ageing, statements and their printing, pure: rows in, figures and text out."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from salesflow.book_commands import single_account
from salesflow.book_queries import name_pattern
from salesflow.receivables import (
    AGEING,
    KindSum,
    Receivable,
    ageing_bucket,
    currency_totals,
    receivables,
    render_receivables,
)
from salesflow.rendering import OutputFormat, amount_text, table_text
from salesflow.statement import LedgerEntry, StatementLine, build_statement, render_statements
from tests.support import ledger

D = Decimal
ACCOUNT = UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = UUID("00000000-0000-4000-8000-0000000000b2")
INVOICES = [UUID(f"00000000-0000-4000-8000-00000000010{n}") for n in range(1, 7)]
ENTRIES = ledger.scenario(INVOICES)


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over 90"),
        (4000, "over 90"),
    ],
)
def test_ageing_buckets_follow_days_past_due(days_past_due: int, bucket: str) -> None:
    as_of = date(2026, 6, 30)
    due = as_of - timedelta(days=days_past_due)
    assert AGEING[ageing_bucket(due, as_of)] == bucket


def test_an_amount_without_a_due_date_is_current() -> None:
    assert ageing_bucket(None, date(2026, 6, 30)) == 0


def _figures(row: Receivable) -> dict[str, Decimal]:
    return {name: row.figure(name) for name in ledger.FIGURES}


def test_receivables_of_an_account_to_the_cent() -> None:
    sums = ledger.kind_sums(ENTRIES, ACCOUNT, ledger.AS_OF)
    (row,) = receivables(sums, ledger.AS_OF, {ACCOUNT: "Acme"})
    assert (row.account_id, row.account_name, row.currency) == (ACCOUNT, "Acme", "EUR")
    assert _figures(row) == ledger.FIGURES
    assert row.ageing == ledger.AGEING
    assert row.outstanding == row.invoiced - row.credited - row.paid + row.refunded
    assert row.outstanding == sum(row.ageing) - row.unapplied_credit


def test_receivables_as_of_a_past_date_leave_later_entries_out() -> None:
    sums = ledger.kind_sums(ENTRIES, ACCOUNT, ledger.PAST)
    (row,) = receivables(sums, ledger.PAST)
    assert row.account_name is None
    assert _figures(row) == ledger.PAST_FIGURES
    assert row.ageing == ledger.PAST_AGEING


def test_accounts_and_currencies_are_kept_apart_and_totalled_per_currency() -> None:
    sums = [
        KindSum(ACCOUNT, "EUR", INVOICES[0], "invoice", D("10.00"), date(2026, 1, 1)),
        KindSum(ACCOUNT, "USD", INVOICES[1], "invoice", D("7.50"), date(2026, 7, 1)),
        KindSum(OTHER, "EUR", INVOICES[2], "invoice", D("5.25"), date(2026, 6, 1)),
        KindSum(OTHER, "EUR", INVOICES[2], "payment", D("-5.25")),
    ]
    rows = receivables(sums, ledger.AS_OF, {ACCOUNT: "beta", OTHER: "Alpha"})
    assert [(r.account_name, r.currency) for r in rows] == [
        ("Alpha", "EUR"),
        ("beta", "EUR"),
        ("beta", "USD"),
    ]
    assert rows[0].is_settled
    assert not rows[1].is_settled
    eur, usd = currency_totals(rows)
    assert (eur.account_id, eur.currency, eur.invoiced, eur.paid) == (
        None,
        "EUR",
        D("15.25"),
        D("5.25"),
    )
    assert eur.outstanding == D("10.00")
    assert eur.ageing == (D(0), D(0), D(0), D(0), D("10.00"))
    assert (usd.outstanding, usd.ageing[0]) == (D("7.50"), D("7.50"))


def _statement(start: date | None = None, end: date | None = None) -> list[StatementLine]:
    return list(
        build_statement(
            ENTRIES, account_id=ACCOUNT, account_name="Acme", currency="EUR", start=start, end=end
        ).lines
    )


def test_statement_balance_runs_to_the_outstanding() -> None:
    statement = build_statement(
        reversed(ENTRIES), account_id=ACCOUNT, account_name="Acme", currency="EUR"
    )
    lines = statement.lines
    assert statement.opening_balance == 0
    assert len(lines) == len(ENTRIES) - 2  # each pair is one line
    assert [line.occurred_on for line in lines] == sorted(line.occurred_on for line in lines)
    running = D(0)
    for line in lines:
        running += line.amount
        assert line.balance == running
    assert statement.closing_balance == ledger.FIGURES["outstanding"]
    first = lines[0]
    assert (first.document_number, first.description) == ("INV-1", "invoice, due 2026-02-09")


def test_statement_pairs_are_one_line_with_their_invoice_side_amount() -> None:
    lines = {line.kind: line for line in _statement() if line.moved is not None}
    moved, applied = lines["to_credit"], lines["credit_applied"]
    assert (moved.moved, moved.amount, moved.description) == (
        D("50.01"),
        D(0),
        "moved from INV-2 to customer credit",
    )
    assert (applied.moved, applied.amount, applied.description) == (
        D("-30.00"),
        D(0),
        "credit applied to INV-3",
    )
    descriptions = [line.description for line in _statement()]
    assert "payment on INV-1" in descriptions
    assert "credit note on INV-2" in descriptions
    assert "refund of customer credit" in descriptions


def test_statement_from_a_date_opens_with_what_came_before() -> None:
    statement = build_statement(
        ENTRIES,
        account_id=ACCOUNT,
        account_name=None,
        currency="EUR",
        start=date(2026, 3, 1),
        end=ledger.PAST,
    )
    assert statement.opening_balance == ledger.MARCH_OPENING
    assert [line.document_number for line in statement.lines] == [
        "INV-2",
        "CN-1",
        "P-2",
        "P-2",
        "INV-6",
    ]
    assert statement.closing_balance == ledger.PAST_FIGURES["outstanding"]


def test_a_document_moving_money_from_two_invoices_pairs_each_side() -> None:
    on = date(2026, 2, 1)
    rows = [
        ("invoice", "INV-A", INVOICES[0], "10.00"),
        ("invoice", "INV-B", INVOICES[1], "10.00"),
        ("payment", "P", INVOICES[0], "-12.00"),
        ("payment", "P", INVOICES[1], "-11.00"),
        ("to_credit", "P", INVOICES[0], "2.00"),
        ("to_credit", "P", None, "-2.00"),
        ("to_credit", "P", INVOICES[1], "1.00"),
        ("to_credit", "P", None, "-1.00"),
        ("credit_applied", "X", None, "4.00"),  # its invoice side is missing: shown on its own
    ]
    entries = [
        LedgerEntry(n, kind, doc, doc, invoice, D(amount), on, None)
        for n, (kind, doc, invoice, amount) in enumerate(rows, start=1)
    ]
    lines = build_statement(entries, account_id=ACCOUNT, account_name=None, currency="EUR").lines
    assert [line.moved for line in lines if line.kind == "to_credit"] == [D("2.00"), D("1.00")]
    assert [line.description for line in lines if line.kind == "to_credit"] == [
        "moved from INV-A to customer credit",
        "moved from INV-B to customer credit",
    ]
    unpaired = lines[-1]
    assert (unpaired.amount, unpaired.moved) == (D("4.00"), None)
    assert unpaired.description == "credit applied on customer credit (unpaired)"
    assert lines[-1].balance == sum(D(amount) for *_, amount in rows) == D("1.00")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (D("100"), "EUR", "100.00"),
        (D("100.0000"), "EUR", "100.00"),
        (D("-0.00"), "EUR", "0.00"),
        (D("0E-8"), "EUR", "0.00"),
        (D("1.005"), "EUR", "1.005"),  # never rounded away
        (D("-12.5"), "EUR", "-12.50"),
        (D("1500"), "JPY", "1500"),
        (D("1.5"), "KWD", "1.500"),
        (D("1E+3"), "EUR", "1000.00"),
    ],
)
def test_amounts_print_with_the_currencys_decimals(
    amount: Decimal, currency: str, text: str
) -> None:
    assert amount_text(amount, currency) == text


def test_tables_align_numbers_right() -> None:
    text = table_text(["name", "amount"], [["a", "1.00"], ["long name", "100.00"]], right=[1])
    assert text.splitlines() == ["name       amount", "a            1.00", "long name  100.00"]


def _rows() -> list[Receivable]:
    sums = ledger.kind_sums(ENTRIES, ACCOUNT, ledger.AS_OF)
    sums.append(KindSum(OTHER, "USD", INVOICES[0], "invoice", D("7"), date(2026, 6, 1)))
    return receivables(sums, ledger.AS_OF, {ACCOUNT: "Acme, Inc."})


def test_receivables_print_a_totals_row_per_currency() -> None:
    table = render_receivables(_rows(), ledger.AS_OF, OutputFormat.TABLE).splitlines()
    assert table[0].startswith("Receivables as of 2026-06-30")
    assert [line.split()[0] for line in table[-2:]] == ["total", "total"]
    assert "1290.95" in table[-2]
    assert table[-1].split()[1:3] == ["USD", "7.00"]
    printed = render_receivables(_rows(), ledger.AS_OF, OutputFormat.CSV)
    records = list(csv.DictReader(io.StringIO(printed)))
    assert records[0]["account_name"] == "Acme, Inc."
    assert records[0]["outstanding"] == "1290.95"
    assert records[0]["over 90"] == "600.05"
    assert [r["account_name"] for r in records[-2:]] == ["total", "total"]


def test_receivables_json_carries_amounts_as_exact_strings() -> None:
    found = json.loads(render_receivables(_rows(), ledger.AS_OF, OutputFormat.JSON))
    acme = found["receivables"][0]
    assert acme["account_id"] == str(ACCOUNT)
    assert acme["outstanding"] == "1290.95"
    assert acme["ageing"] == {
        "current": "200.00",
        "1-30": "150.50",
        "31-60": "270.33",
        "61-90": "80.08",
        "over 90": "600.05",
    }
    assert [t["currency"] for t in found["totals"]] == ["EUR", "USD"]


def test_statement_prints_opening_closing_and_pairs() -> None:
    statement = build_statement(
        ENTRIES,
        account_id=ACCOUNT,
        account_name="Acme",
        currency="EUR",
        start=date(2026, 3, 1),
        end=ledger.PAST,
    )
    table = render_statements([statement], OutputFormat.TABLE).splitlines()
    assert table[0] == f"Statement of Acme ({ACCOUNT}), EUR, from 2026-03-01 to 2026-03-31"
    assert table[2].split()[-3:] == ["opening", "balance", "600.05"]
    assert table[-1].split()[-3:] == ["closing", "balance", "630.12"]
    pair = next(line for line in table if "to customer credit" in line)
    assert pair.split()[-2:] == ["50.01", "550.04"]  # moved, then the balance it left alone
    rows = list(csv.reader(io.StringIO(render_statements([statement], OutputFormat.CSV))))
    assert rows[1][3:] == ["opening", "opening balance", "", "", "600.05"]
    assert rows[-1][3:] == ["closing", "closing balance", "", "", "630.12"]
    found = json.loads(render_statements([statement], OutputFormat.JSON))
    assert (found[0]["opening_balance"], found[0]["closing_balance"]) == ("600.05", "630.12")
    assert found[0]["lines"][-1]["balance"] == "630.12"


def test_a_name_query_is_a_literal_substring() -> None:
    assert name_pattern("Acme") == "%Acme%"
    assert name_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_several_matching_accounts_need_an_exact_name_or_an_id() -> None:
    found: list[tuple[UUID, str | None]] = [(ACCOUNT, "Acme"), (OTHER, "Acme Labs")]
    assert single_account("acme", found) == (ACCOUNT, "Acme")
    with pytest.raises(LookupError, match="2 accounts match 'acm'"):
        single_account("acm", found)
