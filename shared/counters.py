"""Gap-free per-year document numbers (quotes, orders, invoices, credit notes), written once.

One row per year in a counter table of the service's schema, locked and advanced inside the
batch transaction, never a PostgreSQL SEQUENCE: `nextval()` is not transactional, so a batch that
rolls back (crash, poison replay, deadlock retry) would burn numbers and leave gaps, which
invoice numbering law in many countries forbids. Here a rollback undoes the counter together with
the documents that used it. The price: batches that number documents serialise on the row, one
short row lock per batch, not per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import quote_ident


def counter_table(name: str, metadata: MetaData) -> Table:
    """A counter table: `year` -> `last` number given that year."""
    return Table(
        name,
        metadata,
        Column("year", Integer, primary_key=True, autoincrement=False),
        Column("last", Integer, nullable=False),
    )


class YearCounters:
    """The two statements on one counter table, rendered once per process."""

    def __init__(self, table: Table) -> None:
        if table.schema is None:
            raise ValueError(f"counter table {table.name} needs a schema")
        name = f"{quote_ident(table.schema)}.{quote_ident(table.name)}"
        # Creates missing years and locks every asked row in ONE round trip: the no-op DO UPDATE
        # takes the row lock SELECT ... FOR UPDATE would, RETURNING reads the value. Years are
        # locked in ascending order, so two batches never wait for each other crosswise.
        self._lock = text(
            f"INSERT INTO {name} AS c (year, last) "  # noqa: S608 - identifiers checked
            "SELECT y, 0 FROM unnest(CAST(:years AS integer[])) AS y ORDER BY y "
            "ON CONFLICT (year) DO UPDATE SET last = c.last RETURNING c.year, c.last"
        ).bindparams(bindparam("years", type_=ARRAY(Integer)))
        self._save = text(
            f"UPDATE {name} AS c SET last = v.last FROM "  # noqa: S608 - identifiers checked
            "unnest(CAST(:years AS integer[]), CAST(:lasts AS integer[])) AS v(year, last) "
            "WHERE c.year = v.year"
        ).bindparams(
            bindparam("years", type_=ARRAY(Integer)), bindparam("lasts", type_=ARRAY(Integer))
        )

    async def lock(self, conn: AsyncConnection, years: Iterable[int]) -> dict[int, int]:
        """The last number of each year, rows locked until the transaction ends."""
        wanted = sorted(set(years))
        if not wanted:
            return {}
        rows = await conn.execute(self._lock, {"years": wanted})
        return {int(year): int(last) for year, last in rows}

    async def save(self, conn: AsyncConnection, lasts: Mapping[int, int]) -> None:
        """Write the years' new last numbers (rows `lock` took)."""
        if lasts:
            years = sorted(lasts)
            await conn.execute(self._save, {"years": years, "lasts": [lasts[y] for y in years]})
