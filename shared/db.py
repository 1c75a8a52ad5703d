"""PostgreSQL access shared by the workers: engine, the runtime's own tables, error classes.

Every service owns one PostgreSQL schema; the runtime's inbox and outbox live inside it, so the
inbox claim, the business rows and the outgoing events commit in ONE transaction.
The hot path uses SQLAlchemy Core with array parameters (`unnest`) or executemany: one round
trip per statement per batch, no ORM units of work (4-8x the CPU per message). The runtime's own
statements are in shared.mailbox.postgres, the classification of failures in shared.failures.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    any_,
    bindparam,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import ColumnElement, TextClause


def engine_arguments(url: str) -> tuple[str, dict[str, Any]]:
    """`url` without libpq's `sslmode`/`sslrootcert` query parameters, which asyncpg does not
    take from a SQLAlchemy URL, and the connect arguments that apply them."""
    parsed = make_url(url)
    mode = parsed.query.get("sslmode")
    root = parsed.query.get("sslrootcert")
    if mode is None and root is None:
        return url, {}
    stripped = parsed.difference_update_query(["sslmode", "sslrootcert"])
    return (
        stripped.render_as_string(hide_password=False),
        database_ssl(str(mode or "verify-full"), Path(str(root)) if root else None),
    )


def database_ssl(mode: str, rootcert: Path | None) -> dict[str, Any]:
    """asyncpg's `ssl` connect argument for a libpq sslmode (`{}` when none is asked for)."""
    if mode in ("", "disable"):
        return {}
    if mode in ("allow", "prefer", "require") and rootcert is None:
        return {"ssl": mode}
    context = ssl.create_default_context(cafile=str(rootcert) if rootcert else None)
    if mode != "verify-full":
        # require/verify-ca with a CA: the chain is checked, the host name is not (libpq's rule)
        context.check_hostname = False
    return {"ssl": context}


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    application_name: str = "salesflow",
    connect_args: Mapping[str, Any] | None = None,
) -> AsyncEngine:
    """The one engine of a worker process, built by its composition root; TLS from the URL's
    `sslmode`/`sslrootcert` (RuntimeSettings.sqlalchemy_url puts them there)."""
    url, tls = engine_arguments(url)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=2,
        # No ping per checkout: it was one more round trip per transaction (~0.25 ms of CPU and
        # ~0.4 ms of latency, twice per batch with the relay). A connection that died with the
        # server fails its first statement as a disconnect, SQLAlchemy invalidates the pool, and
        # the runtime's and the relay's transient retry run the work again on a fresh one.
        pool_pre_ping=False,
        pool_timeout=10,
        # JSONB columns through orjson (the stdlib encoder showed in lead_svc's profile).
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        connect_args={
            "server_settings": {"application_name": application_name},
            "timeout": 5,
            "command_timeout": 60,
            **tls,
            **(connect_args or {}),
        },
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def runtime_tables(metadata: MetaData, schema: str) -> tuple[Table, Table]:
    """The inbox and outbox tables of one service schema (declared once, used by all)."""
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_received_at", "received_at"),
        schema=schema,
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=False), primary_key=True),
        Column("topic", Text, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("payload", LargeBinary, nullable=True),
        # Header values are bytes and may be null (a dead-lettered message keeps its originals),
        # so they are stored as JSON [[key, base64 | null], ...]; never queried, only relayed.
        Column("headers", Text, nullable=False, server_default="[]"),
        # The W3C trace context of the message that caused the row (shared.tracing), sent by
        # the relay as `traceparent`/`tracestate` headers; null: none (sent without them).
        Column("trace_context", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )
    return inbox, outbox


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg advisory locks, derived from a name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def quote_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return f'"{name}"'


def any_of(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bound array instead of `IN (:v1, ..., :vN)`.

    An IN list renders a different statement for every batch size, so SQLAlchemy re-renders it
    and asyncpg prepares it anew each time; one array parameter keeps one cached, prepared
    statement whatever the batch holds.
    """
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def any_param(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)` with a named array parameter, for statements built once and
    executed with `{name: [...]}`: SQLAlchemy memoises a built statement's cache key, while a
    statement built per call is traversed again for it (~150 us of CPU a statement)."""
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


async def upsert_many(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE for many rows in one executemany round trip."""
    if rows:
        await conn.execute(_insert_sql(table, tuple(rows[0]), tuple(key), update=True), rows)


async def insert_many(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT many rows in one executemany round trip (`ON CONFLICT DO NOTHING` if asked)."""
    if rows:
        conflict = ("",) if ignore_conflicts else ()
        await conn.execute(_insert_sql(table, tuple(rows[0]), conflict, update=False), rows)


_INSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...], bool], TextClause] = {}


def _insert_sql(
    table: Table, columns: tuple[str, ...], key: tuple[str, ...], *, update: bool
) -> TextClause:
    """The INSERT for these columns, rendered once per process.

    SQLAlchemy cannot cache PostgreSQL `insert()` constructs (`inherit_cache = False` on the
    dialect's Insert): every execution compiled the statement again, 1-4 ms of CPU per statement
    per batch. A `text()` statement with typed bind parameters is compiled once and cached, and
    still runs as one pipelined executemany.
    """
    cache_key = (table.fullname, columns, key, update)
    statement = _INSERTS.get(cache_key)
    if statement is None:
        name = ".".join(quote_ident(part) for part in table.fullname.split("."))
        names = ", ".join(quote_ident(c) for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        sql = f"INSERT INTO {name} ({names}) VALUES ({values})"  # noqa: S608 - identifiers checked
        # Every non-key column of the table: a column the rows leave out takes its
        # default from the EXCLUDED row (quote_svc's price updated_at relies on it).
        changing = [c.name for c in table.columns if c.name not in key]
        if update and changing:
            sets = ", ".join(f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in changing)
            keys = ", ".join(quote_ident(c) for c in key)
            sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        elif key:
            sql += " ON CONFLICT DO NOTHING"
        binds: list[BindParameter[Any]] = [bindparam(c, type_=table.c[c].type) for c in columns]
        statement = _INSERTS[cache_key] = text(sql).bindparams(*binds)
    return statement
