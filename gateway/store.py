"""The gateway's own PostgreSQL schema: the shared inbox and outbox, and the requests it took.

Accepting a request is one transaction, like a worker's batch: claim the event id in the inbox
(a retry finds it there and is answered without a second row), remember the request's
fingerprint, post the envelope to the outbox; after the commit the row is handed to the relay.
A crash after the commit leaves the row for the relay's poll after a restart. The requests go
when the inbox forgets their ids (`ON DELETE CASCADE`), so the idempotency window is the
inbox's (SALESFLOW_INBOX_RETENTION_HOURS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    insert,
    select,
)

from contracts.envelope import Envelope
from shared.crash import CrashPoints
from shared.db import runtime_tables
from shared.handover import OutboxSink
from shared.mailbox.postgres import PostgresMailbox
from shared.messages import Outgoing

SCHEMA = "gateway"

metadata = MetaData()
inbox, outbox = runtime_tables(metadata, SCHEMA)
requests = Table(
    "requests",
    metadata,
    Column(
        "event_id",
        Uuid,
        ForeignKey(inbox.c.event_id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("principal", Text, nullable=False),
    Column("idempotency_key", Text, nullable=True),
    Column("fingerprint", LargeBinary, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema=SCHEMA,
)


class KeyReusedError(Exception):
    """The idempotency key was sent before with another request."""


@dataclass(frozen=True, slots=True)
class Accepted:
    record: Outgoing
    replayed: bool


class RequestLog:
    """Accepts requests into the outbox, once per event id."""

    def __init__(self, mailbox: PostgresMailbox, sink: OutboxSink, crash: CrashPoints) -> None:
        self._mailbox = mailbox
        self._sink = sink
        self._crash = crash

    async def accept(
        self,
        envelope: Envelope[Any],
        *,
        fingerprint: bytes,
        idempotency_key: str | None,
        trace: str | None = None,
    ) -> Accepted:
        """`trace`: the request's W3C context (shared.tracing), sent with the event."""
        record = Outgoing.of(envelope, trace=trace)
        async with self._mailbox.transaction() as tx:
            if not await tx.claim([envelope.event_id]):
                known = await tx.connection.scalar(
                    select(requests.c.fingerprint).where(requests.c.event_id == envelope.event_id)
                )
                if known is not None and bytes(known) != fingerprint:
                    raise KeyReusedError(str(envelope.event_id))
                return Accepted(record, replayed=True)
            await tx.connection.execute(
                insert(requests).values(
                    event_id=envelope.event_id,
                    principal=envelope.producer,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    event_type=envelope.event_type,
                    deal_id=envelope.deal_id,
                )
            )
            seen = self._sink.pending()
            posted = await tx.post([record], seen.ids)
        self._crash.reached("after_db_commit")
        self._sink.committed([record], posted.ids, alone=posted.alone, seen=seen)
        return Accepted(record, replayed=False)
