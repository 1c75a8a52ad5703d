"""The effectively-once batch consumer runtime every worker runs.

Per batch polled from Kafka, ONE PostgreSQL transaction:

    inbox claim of the batch's event ids (one statement; duplicates drop out here)
    -> the service's Stage loads what the fresh messages touch, decides per message in order,
       saves its rows and returns the outgoing events
    -> outgoing events and dead-letter entries into the outbox (one statement)
    COMMIT, hand what it emits to the relay, and only then let the caller commit the offsets.

A crash before COMMIT leaves nothing behind; a crash after COMMIT and before the offset commit
redelivers the batch, which the inbox absorbs. Poison records never reach the stage: they are
parked on the dead-letter topic in the same transaction. A batch that fails for a reason tied to
its data is replayed message by message so only the guilty message is parked. Infrastructure
failures are retried in place with backoff and, past a budget, handed back to the caller as
`BatchDeferred` so the batch is read again; they never park good messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeAlias, TypeVar
from uuid import UUID

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import decode
from contracts.errors import InvalidMessage
from contracts.topics import kafka_key
from shared.clock import Clock
from shared.db import SchemaSql, is_transient, root_cause
from shared.deadletter import DeadLetterReason, dead_letter
from shared.health import Readiness
from shared.messages import Incoming, Outgoing, pack_headers
from shared.metrics import WorkerMetrics

log = structlog.stdlib.get_logger("salesflow.consumer")

T = TypeVar("T")
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class Stage(Protocol):
    """A service's share of a batch: load what it touches, decide per message, save.

    Called inside the batch transaction with only the messages the inbox has not seen, in
    the order Kafka delivered them. Returns the events to publish. Business refusals are
    events (`*.rejected`), never exceptions; an exception means the data could not be applied.
    """

    async def apply(
        self, conn: AsyncConnection, batch: Sequence[Incoming], now: datetime
    ) -> Sequence[Outgoing]: ...


@dataclass(frozen=True, slots=True)
class Pending:
    """Outbox ids already handed to the relay and not yet deleted, as of one moment (`era`)."""

    era: int
    ids: list[int]


class OutboxSink(Protocol):
    """Where the runtime reports what a committed transaction put in the outbox (the relay)."""

    def pending(self) -> Pending:
        """Rows handed over earlier, which the relay sends before anything handed over later."""
        ...

    def committed(
        self, records: Sequence[Outgoing], ids: Sequence[int], *, alone: bool, seen: Pending
    ) -> None:
        """`records` (outbox rows `ids`, same order) are committed; `alone`: when they were
        inserted the outbox held no row but `seen`'s, so they may be published from memory."""
        ...


class BatchDeferred(Exception):  # noqa: N818 - a signal to the caller, not an error to report
    """The batch could not be applied now (infrastructure down); read it again later."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What one transaction did: the messages applied, the duplicates dropped, what it emits."""

    fresh: list[Incoming]
    duplicates: int
    outgoing: list[Outgoing]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    records: int
    processed: int
    duplicates: int
    dead_lettered: int
    published: int


class CrashPoints:
    """Fault injection for the crash tests: SIGKILL this process at a named point.

    Production runs with no point set; the check is one string comparison.
    """

    def __init__(self, point: str = "", after: int = 1) -> None:
        self._point = point
        self._after = after
        self._passes = 0

    def reached(self, name: str) -> None:
        if name != self._point:
            return
        self._passes += 1
        if self._passes >= self._after:
            log.warning("crash_point_reached", point=name, passes=self._passes)
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float = 0.1
    max_s: float = 5.0
    budget_s: float = 30.0


class BatchRuntime:
    """Applies polled batches with effectively-once effects; see the module docstring."""

    def __init__(
        self,
        *,
        service: str,
        stage: Stage,
        engine: AsyncEngine,
        accepted: Mapping[str, frozenset[str]],
        dead_letter_topic: str,
        clock: Clock,
        metrics: WorkerMetrics,
        readiness: Readiness,
        retry: RetryPolicy,
        max_message_bytes: int,
        outbox: OutboxSink,
        crash: CrashPoints | None = None,
    ) -> None:
        self._service = service
        self._stage = stage
        self._engine = engine
        self._sql = SchemaSql(service)
        self._accepted = accepted
        self._dlq_topic = dead_letter_topic
        self._clock = clock
        self._metrics = metrics
        self._readiness = readiness
        self._retry = retry
        self._max_bytes = max_message_bytes
        self._outbox = outbox
        self._crash = crash or CrashPoints()

    async def handle(self, records: Sequence[Record]) -> BatchOutcome:
        """Apply one polled batch. Raises BatchDeferred when it must be read again."""
        started = time.perf_counter()
        now = self._clock.now()
        decoded: list[Incoming] = []
        sources: list[Record] = []
        parked: list[Outgoing] = []
        seen: set[UUID] = set()
        in_batch_duplicates = 0
        for record in records:
            result = self._decode(record)
            if isinstance(result, DeadLetterReason):
                parked.append(self._park(record, result, now))
                continue
            if result.event_id in seen:
                in_batch_duplicates += 1
                continue
            seen.add(result.event_id)
            decoded.append(result)
            sources.append(record)

        try:
            applied = [await self._retrying(lambda: self._commit(decoded, parked, now))]
        except BatchDeferred:
            raise
        except Exception as error:  # any non-transient failure: find the culprit message
            log.warning(
                "batch_failed_replaying_per_message",
                records=len(records),
                error_class=type(root_cause(error)).__name__,
                error=str(error)[:500],
            )
            applied, parked = await self._one_by_one(decoded, sources, parked, now)

        fresh = [m for a in applied for m in a.fresh]
        published = [o for a in applied for o in a.outgoing]
        duplicates = in_batch_duplicates + sum(a.duplicates for a in applied)
        self._count(len(records), fresh, duplicates, parked, published, started)
        return BatchOutcome(
            records=len(records),
            processed=len(fresh),
            duplicates=duplicates,
            dead_lettered=len(parked),
            published=len(published),
        )

    def _decode(self, record: Record) -> Incoming | DeadLetterReason:
        for key, value in record.headers:
            if value is None:
                return DeadLetterReason("bad_header", "NullHeader", f"header {key!r} is null")
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as error:
                return DeadLetterReason.of("bad_header", error)
        if record.value is None:
            return DeadLetterReason("not_json", "EmptyRecord", "record has no value")
        try:
            envelope = decode(record.value, max_bytes=self._max_bytes)
        except InvalidMessage as error:
            return DeadLetterReason.of(error.reason, error)
        accepted = self._accepted.get(record.topic, frozenset())
        if envelope.event_type not in accepted:
            return DeadLetterReason(
                "unexpected_event_type",
                "UnexpectedEventType",
                f"{envelope.event_type!r} is not carried by topic {record.topic!r}",
            )
        if record.key is not None and record.key != kafka_key(envelope):
            # The key decides the partition; a record keyed otherwise than its deal could
            # overtake or trail the deal's other events, so it is refused rather than guessed.
            return DeadLetterReason(
                "key_mismatch", "KeyMismatch", "record key differs from its topic's key rule"
            )
        for key, value in record.headers:
            expected = _MIRRORED.get(key)
            if expected is not None and value is not None and value.decode() != expected(envelope):
                return DeadLetterReason(
                    "header_mismatch", "HeaderMismatch", f"header {key!r} contradicts the body"
                )
        return Incoming(envelope, record.topic, record.partition, record.offset)

    def _park(self, record: Record, reason: DeadLetterReason, now: datetime) -> Outgoing:
        log.warning(
            "message_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason.code,
            error=reason.message[:300],
        )
        return dead_letter(
            record, reason, topic=self._dlq_topic, service=self._service, seen_at=now
        )

    async def _commit(
        self, decoded: Sequence[Incoming], parked: Sequence[Outgoing], now: datetime
    ) -> Applied:
        outgoing: list[Outgoing] = []
        fresh: list[Incoming] = []
        async with self._engine.begin() as conn:
            if decoded:
                rows = await conn.execute(
                    self._sql.claim_inbox, {"ids": [m.event_id for m in decoded]}
                )
                claimed = {row[0] for row in rows}
                fresh = [m for m in decoded if m.event_id in claimed]
            if fresh:
                outgoing.extend(await self._stage.apply(conn, fresh, now))
            self._crash.reached("in_transaction")
            records = [*outgoing, *parked]
            seen = self._outbox.pending()
            ids, alone = await self._insert_outbox(conn, records, seen)
        self._crash.reached("after_db_commit")
        if records:
            self._outbox.committed(records, ids, alone=alone, seen=seen)
        return Applied(fresh, len(decoded) - len(fresh), outgoing)

    async def _insert_outbox(
        self, conn: AsyncConnection, records: Sequence[Outgoing], seen: Pending
    ) -> tuple[list[int], bool]:
        if not records:
            return [], False
        ids, others = (
            await conn.execute(
                self._sql.insert_outbox,
                {
                    "topics": [r.topic for r in records],
                    "keys": [r.key for r in records],
                    "payloads": [r.payload for r in records],
                    "headers": [pack_headers(r.headers) for r in records],
                    "pending": seen.ids,
                },
            )
        ).one()
        return list(ids), not others

    async def _one_by_one(
        self,
        decoded: Sequence[Incoming],
        sources: Sequence[Record],
        parked: list[Outgoing],
        now: datetime,
    ) -> tuple[list[Applied], list[Outgoing]]:
        applied: list[Applied] = []
        parked = list(parked)
        for message, record in zip(decoded, sources, strict=True):
            structlog.contextvars.bind_contextvars(
                event_id=str(message.event_id), deal_id=message.deal_id, offset=record.offset
            )
            try:
                applied.append(
                    await self._retrying(lambda m=message: self._commit([m], [], now))  # type: ignore[misc]
                )
            except BatchDeferred:
                raise
            except Exception as error:
                reason = DeadLetterReason(
                    "processing_failed", type(root_cause(error)).__name__, str(error)
                )
                parked.append(self._park(record, reason, now))
            finally:
                structlog.contextvars.unbind_contextvars("event_id", "deal_id", "offset")
        if parked:
            applied.append(await self._retrying(lambda: self._commit([], parked, now)))
        return applied, parked

    async def _retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        delay = self._retry.initial_s
        deadline = time.monotonic() + self._retry.budget_s
        while True:
            try:
                result = await operation()
            except Exception as error:
                if not is_transient(error):
                    raise
                self._metrics.transient_errors.labels(self._service).inc()
                self._readiness.set_database(ok=False, detail=f"{type(error).__name__}: {error}")
                if time.monotonic() + delay > deadline:
                    log.warning("batch_deferred", error_class=type(error).__name__)
                    raise BatchDeferred(str(error)) from error
                log.warning(
                    "transient_failure_retrying",
                    error_class=type(error).__name__,
                    error=str(error)[:300],
                    retry_in_s=delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry.max_s)
            else:
                self._readiness.set_database(ok=True)
                return result

    def _count(
        self,
        records: int,
        fresh: Sequence[Incoming],
        duplicates: int,
        parked: Sequence[Outgoing],
        published: Sequence[Outgoing],
        started: float,
    ) -> None:
        m, svc = self._metrics, self._service
        for topic_name, count in Counter(msg.topic for msg in fresh).items():
            m.processed.labels(svc, topic_name).inc(count)
        if duplicates:
            m.duplicates.labels(svc).inc(duplicates)
        for record in parked:
            m.dead_lettered.labels(svc, _header(record, "dlq.reason")).inc()
        for out in published:
            if out.is_rejection:
                m.rejected.labels(svc, out.event_type).inc()
        m.batch_size.labels(svc).observe(records)
        m.batch_seconds.labels(svc).observe(time.perf_counter() - started)


def _header(record: Outgoing, name: str) -> str:
    for key, value in record.headers:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return ""


_MIRRORED: dict[str, Callable[[object], str]] = {
    "event_type": lambda env: str(env.event_type),  # type: ignore[attr-defined]
    "event_id": lambda env: str(env.event_id),  # type: ignore[attr-defined]
    "deal_id": lambda env: str(env.deal_id),  # type: ignore[attr-defined]
}
