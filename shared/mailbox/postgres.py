"""The mailbox on PostgreSQL: the inbox and outbox tables of one service schema.

Every statement is rendered and parsed once per service (a `text()` built per call re-parses its
bind parameters with a regex every time, on every batch).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import advisory_key, quote_ident
from shared.mailbox import OutboxRow, Posted
from shared.messages import Outgoing, pack_headers, unpack_headers


class _Statements:
    def __init__(self, schema: str) -> None:
        s = quote_ident(schema)
        self.claim_inbox = text(
            f"INSERT INTO {s}.inbox (event_id) SELECT unnest(CAST(:ids AS uuid[])) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        )
        # Inserts a batch's records and, in the same round trip, says whether the outbox held
        # any other row before them (the main query reads the statement's snapshot, which does
        # not include the CTE's own rows). Rows this process already handed to its relay
        # (`:pending`) do not count: the relay sends those first, in order. With no other
        # row, the relay may publish the batch straight from memory without breaking any
        # deal's order (see shared.relay).
        self.insert_outbox = text(
            f"WITH added AS (INSERT INTO {s}.outbox (topic, key, payload, headers, trace_context) "  # noqa: S608 - identifiers checked
            "SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:keys AS bytea[]), "
            "CAST(:payloads AS bytea[]), CAST(:headers AS text[]), CAST(:traces AS text[])) "
            "RETURNING id) "
            "SELECT ARRAY(SELECT id FROM added ORDER BY id) AS ids, "
            # An anti-join (hashed) rather than `id <> ALL(:pending)`, which is linear in the
            # array for every row scanned.
            f"EXISTS (SELECT 1 FROM {s}.outbox o WHERE NOT EXISTS (SELECT 1 FROM "
            "unnest(CAST(:pending AS bigint[])) p(id) WHERE p.id = o.id)) AS others"
        )
        # The relay's leadership (a transaction-scoped advisory lock) is taken by the same
        # statement that reads the rows: one round trip less per relay pass. A relay that
        # cannot take the lock reads nothing; an empty outbox needs no lock.
        self.select_outbox = text(
            f"SELECT id, topic, key, payload, headers, trace_context FROM {s}.outbox "  # noqa: S608 - identifiers checked
            "WHERE pg_try_advisory_xact_lock(:key) "
            "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
        )
        self.delete_outbox = text(
            f"DELETE FROM {s}.outbox WHERE id = ANY(CAST(:ids AS bigint[]))"  # noqa: S608 - identifiers checked
        )
        self.backlog = text(
            f"SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at)) FROM {s}.outbox"  # noqa: S608 - identifiers checked
        )
        self.purge_inbox = text(
            f"DELETE FROM {s}.inbox WHERE received_at < now() - make_interval(secs => :secs)"  # noqa: S608 - identifiers checked
        )
        self.ping = text("SELECT 1")


@dataclass(frozen=True, slots=True)
class _Transaction:
    conn: AsyncConnection
    sql: _Statements

    @property
    def connection(self) -> AsyncConnection:
        return self.conn

    async def claim(self, event_ids: Sequence[UUID]) -> set[UUID]:
        if not event_ids:
            return set()
        rows = await self.conn.execute(self.sql.claim_inbox, {"ids": list(event_ids)})
        return {row[0] for row in rows}

    async def post(self, records: Sequence[Outgoing], pending: Sequence[int]) -> Posted:
        if not records:
            return Posted([], alone=False)
        ids, others = (
            await self.conn.execute(
                self.sql.insert_outbox,
                {
                    "topics": [r.topic for r in records],
                    "keys": [r.key for r in records],
                    "payloads": [r.payload for r in records],
                    "headers": [pack_headers(r.headers) for r in records],
                    "traces": [r.trace for r in records],
                    "pending": list(pending),
                },
            )
        ).one()
        return Posted(list(ids), alone=not others)


@dataclass(frozen=True, slots=True)
class _RelayPass:
    conn: AsyncConnection
    sql: _Statements
    rows: list[OutboxRow]

    async def delete(self, ids: Sequence[int]) -> None:
        await self.conn.execute(self.sql.delete_outbox, {"ids": list(ids)})


class PostgresMailbox:
    """The inbox and outbox of schema `schema`, on the worker's engine."""

    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sql = _Statements(schema)
        self._relay_lock = advisory_key(f"salesflow.relay.{schema}")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Transaction]:
        async with self._engine.begin() as conn:
            yield _Transaction(conn, self._sql)

    @contextlib.asynccontextmanager
    async def relay_pass(self, limit: int) -> AsyncIterator[_RelayPass]:
        async with self._engine.begin() as conn:
            found = await conn.execute(
                self._sql.select_outbox, {"key": self._relay_lock, "limit": limit}
            )
            rows = [
                OutboxRow(
                    row.id,
                    Outgoing(
                        row.topic,
                        row.key,
                        row.payload,
                        unpack_headers(row.headers),
                        trace=row.trace_context,
                    ),
                )
                for row in found
            ]
            yield _RelayPass(conn, self._sql, rows)

    async def delete(self, ids: Sequence[int]) -> None:
        async with self._autocommit.connect() as conn:
            await conn.execute(self._sql.delete_outbox, {"ids": list(ids)})

    async def backlog(self) -> tuple[int, float]:
        async with self._engine.connect() as conn:
            count, age = (await conn.execute(self._sql.backlog)).one()
        return int(count), float(age or 0)

    async def purge_inbox(self, older_than_s: float) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(self._sql.purge_inbox, {"secs": older_than_s})
        return int(getattr(result, "rowcount", -1))

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(self._sql.ping)
