"""Test doubles around the shared runtime: consumed records, a recording stage, a recording
relay sink. No I/O; the database double is shared.mailbox.memory.MemoryMailbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from aiokafka import ConsumerRecord

from contracts.envelope import Envelope, encode, kafka_headers
from contracts.topics import kafka_key, topic_for_event
from shared.handover import Pending
from shared.mailbox.memory import MemoryTransaction
from shared.messages import Incoming, Outgoing

Headers = Sequence[tuple[str, bytes | None]]


def consumed(
    envelope: Envelope[Any] | None,
    offset: int,
    *,
    topic: str | None = None,
    partition: int = 0,
    key: bytes | str | None = "auto",
    value: bytes | None = None,
    headers: Headers | None = None,
    timestamp: int = 0,
) -> ConsumerRecord[bytes, bytes]:
    """A record as the consumer hands it over: by default `envelope` on its topic, keyed and
    headed as salesflow publishes it; every part can be overridden (poison records)."""
    if envelope is not None:
        topic = topic or topic_for_event(envelope.event_type).name
        value = value if value is not None else encode(envelope)
        headers = headers if headers is not None else kafka_headers(envelope)
        key = kafka_key(envelope) if key == "auto" else key
    return ConsumerRecord(
        topic=topic or "lead.captured",
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=None if key == "auto" else key,
        value=value,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=-1,
        headers=list(headers or ()),
    )


@dataclass
class RecordingStage:
    """A stage that writes one business row per message (into the memory transaction, so it
    commits and rolls back with it) and emits one event per message. It fails, as a message's
    data would, for the event ids in `poison`."""

    poison: set[UUID] = field(default_factory=set)
    batches: list[list[UUID]] = field(default_factory=list)

    async def apply(
        self, conn: MemoryTransaction, batch: Sequence[Incoming[Any]], now: datetime
    ) -> list[Outgoing]:
        self.batches.append([m.event_id for m in batch])
        out = []
        for msg in batch:
            if msg.event_id in self.poison:
                raise ValueError(f"cannot apply {msg.event_id}")
            conn.rows["effects"].append(msg.event_id)
            out.append(Outgoing("effects", msg.deal_id.encode(), str(msg.event_id).encode(), []))
        return out


@dataclass
class RecordingSink:
    """The relay's side of the hand-over, recorded."""

    handed: list[tuple[list[int], bool]] = field(default_factory=list)

    def pending(self) -> Pending:
        return Pending(0, [])

    def committed(
        self, records: Sequence[Outgoing], ids: Sequence[int], *, alone: bool, seen: Pending
    ) -> None:
        self.handed.append((list(ids), alone))
