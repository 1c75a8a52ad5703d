"""Reading and re-driving a service's dead-letter topic (`salesflow dlq show|redrive`).

A redrive re-publishes a dead letter to the topic it came from, byte for byte (key, value and
its original headers, the `dlq.*` ones dropped), after the cause was fixed. Its event id is the
original one: a message that had an effect already (a twin of it was applied) is dropped by the
worker's inbox, within the inbox's window. Dead letters are kept four weeks
(`contracts.topics.DEAD_LETTER_RETENTION_MS`); a filter picks the ones to send (`--reason`,
`--event-id`, `--since`/`--until` on when they were parked) and `--dry-run` lists them first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts import cloudevents
from shared import kafka_clients
from shared.intake import content_type
from shared.topic_partitions import topic_partitions

DLQ_HEADERS_PREFIX = "dlq."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One entry of a dead-letter topic, with what its `dlq.*` headers say."""

    offset: int
    partition: int
    key: bytes | None
    value: bytes | None
    original_headers: list[tuple[str, bytes | None]]
    reason: str
    error: str
    source_topic: str
    source_partition: str
    source_offset: str
    parked_at: datetime
    event_id: str | None

    def describe(self) -> str:
        shown = (self.value or b"")[:120]
        return (
            f"{self.source_topic}[{self.source_partition}]@{self.source_offset} "
            f"parked={self.parked_at.isoformat(timespec='seconds')} reason={self.reason} "
            f"event_id={self.event_id or '-'} error={self.error[:160]!r} bytes={shown!r}"
        )


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters to act on; an empty field does not filter."""

    reasons: frozenset[str] = frozenset()
    event_ids: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    sources: frozenset[str] = field(default_factory=frozenset)

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (not self.reasons or letter.reason in self.reasons)
            and (not self.event_ids or letter.event_id in self.event_ids)
            and (self.since is None or letter.parked_at >= self.since)
            and (self.until is None or letter.parked_at < self.until)
            and (not self.sources or letter.source_topic in self.sources)
        )


def dead_letter_of(record: Any) -> DeadLetter:
    """Read a dead-letter record: its `dlq.*` headers, and the event id when the original names
    one (its `event_id` header, else the body's, when the body is a JSON object)."""
    headers: list[tuple[str, bytes | None]] = list(record.headers)
    info = {k: (v or b"").decode("utf-8", "replace") for k, v in headers if k.startswith("dlq.")}
    original = [(k, v) for k, v in headers if not k.startswith(DLQ_HEADERS_PREFIX)]
    return DeadLetter(
        offset=record.offset,
        partition=record.partition,
        key=record.key,
        value=record.value,
        original_headers=original,
        reason=info.get("dlq.reason", ""),
        error=info.get("dlq.error", ""),
        source_topic=info.get("dlq.source_topic", ""),
        source_partition=info.get("dlq.source_partition", ""),
        source_offset=info.get("dlq.source_offset", ""),
        parked_at=_parked_at(info.get("dlq.first_seen"), record.timestamp),
        event_id=_event_id(original, record.value),
    )


def _parked_at(first_seen: str | None, timestamp_ms: int) -> datetime:
    if first_seen:
        try:
            seen = datetime.fromisoformat(first_seen)
        except ValueError:
            pass
        else:
            return seen if seen.tzinfo else seen.replace(tzinfo=UTC)
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


def _event_id(headers: Sequence[tuple[str, bytes | None]], value: bytes | None) -> str | None:
    for key, raw in headers:
        if key in ("event_id", "ce_id") and raw:
            return raw.decode("utf-8", "replace")
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    # A structured-mode CloudEvent names its event id `id` (contracts.cloudevents).
    name = "id" if cloudevents.is_structured(content_type(headers)) else "event_id"
    found = body.get(name) if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


async def _read_all(bootstrap: str, topic: str, limit: int | None) -> list[Any]:
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(bootstrap, [topic])
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list[Any] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=1000)
            for recs in batch.values():
                records.extend(recs)
            if limit is not None and len(records) >= limit:
                break
        return records[:limit] if limit is not None else records
    finally:
        await consumer.stop()


async def dead_letters(
    bootstrap: str, service: str, which: DeadLetterFilter | None = None
) -> list[DeadLetter]:
    """The service's dead letters that `which` selects, in topic order per partition."""
    found = [dead_letter_of(r) for r in await _read_all(bootstrap, f"{service}.dlq", None)]
    return [letter for letter in found if which is None or which.matches(letter)]


async def show(bootstrap: str, service: str, limit: int, which: DeadLetterFilter) -> None:
    for letter in (await dead_letters(bootstrap, service, which))[:limit]:
        print(letter.describe())  # noqa: T201 - a CLI's output


async def redrive(
    bootstrap: str, service: str, which: DeadLetterFilter, *, dry_run: bool = False
) -> list[DeadLetter]:
    """Re-publish the selected dead letters to their source topic, unchanged; with `dry_run`
    only say which. Entries that name no source topic are never sent (and not returned)."""
    chosen = [d for d in await dead_letters(bootstrap, service, which) if d.source_topic]
    if dry_run or not chosen:
        return chosen
    producer = kafka_clients.producer(bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        deliveries = [
            await producer.send(
                letter.source_topic,
                letter.value,
                key=letter.key,
                headers=letter.original_headers,
            )
            for letter in chosen
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    return chosen
