"""What `salesflow receivables`, `statement` and `report` do: find the account, read one
snapshot, compute with the pure modules, render. Each returns the text to print; a question the
data cannot answer (no such account, several of them) raises LookupError with what to say."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from salesflow import book_queries
from salesflow.pipeline_report import render_report
from salesflow.receivables import receivables, render_receivables
from salesflow.rendering import OutputFormat
from salesflow.statement import build_statement, render_statements

_SHOWN_CANDIDATES = 10


def as_account_id(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def _accounts(conn: AsyncConnection, account: str) -> list[tuple[UUID, str | None]]:
    """The account(s) `account` designates: its id, or the accounts whose name contains it."""
    account_id = as_account_id(account)
    if account_id is not None:
        names = await book_queries.account_names(conn, [account_id])
        return [(account_id, names.get(account_id))]
    found: list[tuple[UUID, str | None]] = list(await book_queries.accounts_named(conn, account))
    if not found:
        raise LookupError(f"no account id or name matches {account!r}")
    return found


def single_account(account: str, found: list[tuple[UUID, str | None]]) -> tuple[UUID, str | None]:
    """The single account meant: the only match, or the only one named exactly `account`."""
    if len(found) == 1:
        return found[0]
    exact = [f for f in found if (f[1] or "").casefold() == account.casefold()]
    if len(exact) == 1:
        return exact[0]
    listed = found[:_SHOWN_CANDIDATES]
    shown = "\n".join(f"  {name}  {account_id}" for account_id, name in listed)
    more = f"\n  ... and {len(found) - len(listed)} more" if len(found) > len(listed) else ""
    raise LookupError(f"{len(found)} accounts match {account!r}; name one by id:\n{shown}{more}")


async def receivables_text(
    database_url: str,
    account: str | None,
    as_of: date,
    output: OutputFormat,
    *,
    include_settled: bool = False,
) -> str:
    """Receivables as of `as_of`. Without `account`, only accounts with something open unless
    `include_settled`; an account asked for by id or name is shown even when settled."""
    async with book_queries.read_only(database_url) as conn:
        ids = None
        if account is not None:
            ids = [account_id for account_id, _ in await _accounts(conn, account)]
        sums = await book_queries.kind_sums(conn, as_of, ids)
        names = await book_queries.account_names(conn, ids)
    rows = receivables(sums, as_of, names)
    if account is None and not include_settled:
        rows = [row for row in rows if not row.is_settled]
    if not rows and output is OutputFormat.TABLE:
        who = f" for {account!r}" if account is not None else ""
        return f"no receivables{who} as of {as_of.isoformat()}"
    return render_receivables(rows, as_of, output)


async def statement_text(
    database_url: str,
    account: str,
    *,
    currency: str | None,
    start: date | None,
    end: date,
    output: OutputFormat,
) -> str:
    """The account's statement in each of its currencies (or `currency`) up to `end`."""
    async with book_queries.read_only(database_url) as conn:
        account_id, name = single_account(account, await _accounts(conn, account))
        by_currency = await book_queries.ledger_entries(conn, account_id, currency, end)
    if not by_currency:
        money = f" in {currency}" if currency else ""
        raise LookupError(f"no receivable entries for {name or account_id}{money} up to {end}")
    statements = [
        build_statement(
            entries, account_id=account_id, account_name=name, currency=c, start=start, end=end
        )
        for c, entries in sorted(by_currency.items())
    ]
    return render_statements(statements, output)


async def report_text(database_url: str, output: OutputFormat) -> str:
    async with book_queries.read_only(database_url) as conn:
        figures = await book_queries.pipeline_figures(conn)
    return render_report(figures, output)
