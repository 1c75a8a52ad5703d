"""`salesflow receivables`, `statement` and `report` against the migrated invoice_svc schema.

The entries of tests/support/ledger.py are written for a fresh account straight into
invoice_svc.receivable_entries (as invoice_svc would write them, rules obeyed), read back through
the CLI and checked to the cent, then deleted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from salesflow.book_queries import read_only
from salesflow.cli import app
from salesflow.statement import LedgerEntry
from tests.support import ledger
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration

_INSERT = text(
    "INSERT INTO invoice_svc.receivable_entries (account_id, currency, kind, document_id, "
    "document_number, invoice_id, amount, occurred_on, due_date) VALUES (:account_id, 'EUR', "
    ":kind, :document_id, :document_number, :invoice_id, :amount, :occurred_on, :due_date)"
)


async def _write(database_url: str, account_id: UUID, entries: list[LedgerEntry]) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for e in entries:  # one by one: entry ids follow the order they were booked in
                await conn.execute(
                    _INSERT,
                    {
                        "account_id": account_id,
                        "kind": e.kind,
                        "document_id": e.document_id,
                        "document_number": e.document_number,
                        "invoice_id": e.invoice_id,
                        "amount": e.amount,
                        "occurred_on": e.occurred_on,
                        "due_date": e.due_date,
                    },
                )
    finally:
        await engine.dispose()


async def _delete(database_url: str, account_id: UUID) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM invoice_svc.receivable_entries WHERE account_id = :a"),
                {"a": account_id},
            )
    finally:
        await engine.dispose()


@pytest.fixture
def booked(endpoints: Endpoints) -> Iterator[tuple[UUID, str]]:
    """A fresh account with the scenario's entries; yields its id and the documents' tag."""
    account_id = uuid4()
    tag = f"-{account_id.hex[:8]}"
    entries = ledger.scenario([uuid4() for _ in range(6)], tag)
    asyncio.run(_write(endpoints.database_url, account_id, entries))
    try:
        yield account_id, tag
    finally:
        asyncio.run(_delete(endpoints.database_url, account_id))


def _run(endpoints: Endpoints, *args: str, code: int = 0) -> str:
    env = {"SALESFLOW_DATABASE_URL": endpoints.database_url}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


def _json(endpoints: Endpoints, *args: str) -> Any:
    return json.loads(_run(endpoints, *args, "--format", "json"))


def _expected(figures: dict[str, Any], ageing: tuple[Any, ...]) -> dict[str, Any]:
    buckets = ("current", "1-30", "31-60", "61-90", "over 90")
    return {
        **{name: f"{amount:f}" for name, amount in figures.items()},
        "ageing": {name: f"{amount:f}" for name, amount in zip(buckets, ageing, strict=True)},
    }


def test_receivables_and_statement_to_the_cent(
    endpoints: Endpoints, booked: tuple[UUID, str]
) -> None:
    account_id, tag = booked
    account = str(account_id)

    now = _json(endpoints, "receivables", account, "--as-of", ledger.AS_OF.isoformat())
    (row,) = now["receivables"]
    assert (row["account_id"], row["currency"]) == (account, "EUR")
    figures = {k: v for k, v in row.items() if k not in {"account_id", "account_name", "currency"}}
    assert figures == _expected(ledger.FIGURES, ledger.AGEING)

    past = _json(endpoints, "receivables", account, "--as-of", ledger.PAST.isoformat())
    (row,) = past["receivables"]
    assert {k: row[k] for k in (*ledger.PAST_FIGURES, "ageing")} == _expected(
        ledger.PAST_FIGURES, ledger.PAST_AGEING
    )

    (statement,) = _json(endpoints, "statement", account, "--to", ledger.AS_OF.isoformat())
    lines = statement["lines"]
    assert len(lines) == 12  # 14 entries, each of the two pairs one line
    assert lines[-1]["balance"] == statement["closing_balance"] == "1290.95"
    applied = next(line for line in lines if line["kind"] == "credit_applied")
    assert (applied["description"], applied["moved"], applied["amount"]) == (
        f"credit applied to INV-3{tag}",
        "-30.00",
        "0.00",
    )
    others = [line for line in lines if line["kind"] not in {"to_credit", "credit_applied"}]
    assert {line["moved"] for line in others} == {None}

    (march,) = _json(endpoints, "statement", account, "--from", "2026-03-01", "--to", "2026-03-31")
    assert (march["opening_balance"], march["closing_balance"]) == ("600.05", "630.12")
    assert march["closing_balance"] == past["receivables"][0]["outstanding"]

    # Defaults: both as of today (UTC), so the statement still ends at the outstanding.
    (today,) = _json(endpoints, "receivables", account)["receivables"]
    (full,) = _json(endpoints, "statement", account, "--currency", "eur")
    assert full["lines"][-1]["balance"] == today["outstanding"] == "1290.95"


def test_the_printed_forms_and_the_refusals(endpoints: Endpoints, booked: tuple[UUID, str]) -> None:
    account = str(booked[0])
    table = _run(endpoints, "receivables", account, "--as-of", ledger.AS_OF.isoformat())
    assert table.splitlines()[-1].split()[:2] == ["total", "EUR"]
    csv_text = _run(endpoints, "receivables", account, "--format", "csv")
    assert csv_text.splitlines()[-1].startswith(",total,EUR,2231.01,100.01,850.05,10.00,1290.95")
    statement = _run(endpoints, "statement", account, "--from", "2026-03-01")
    assert "opening balance" in statement
    assert statement.splitlines()[-1].split()[-3:] == ["closing", "balance", "1290.95"]

    nobody = f"no such account {uuid4()}"
    assert "no account id or name matches" in _run(endpoints, "statement", nobody, code=1)
    assert "no receivable entries" in _run(
        endpoints, "statement", account, "--currency", "USD", code=1
    )

    report = _json(endpoints, "report")
    assert "EUR" in [b["currency"] for b in report["billing"]]
    assert set(report) >= {"leads", "opportunities", "quotes", "orders", "invoices"}
    assert len(_run(endpoints, "report").splitlines()) <= 40


def test_the_reports_cannot_write(endpoints: Endpoints) -> None:
    async def try_to_write() -> None:
        async with read_only(endpoints.database_url) as conn:
            await conn.execute(
                text("DELETE FROM invoice_svc.receivable_entries WHERE account_id = :a"),
                {"a": uuid4()},
            )

    with pytest.raises(DBAPIError, match="read-only transaction"):
        asyncio.run(try_to_write())


def test_dates_are_checked(endpoints: Endpoints) -> None:
    env = {"SALESFLOW_DATABASE_URL": endpoints.database_url}
    backwards = ["statement", str(uuid4()), "--from", "2026-05-01", "--to", "2026-04-01"]
    result = CliRunner().invoke(app, backwards, env=env)
    assert (result.exit_code, "is after --to" in result.output) == (2, True)
    result = CliRunner().invoke(app, ["receivables", "--as-of", "2026-13-01"], env=env)
    assert (result.exit_code, "--as-of" in result.output) == (2, True)
