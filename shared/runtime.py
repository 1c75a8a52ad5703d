"""The effectively-once batch consumer runtime every worker runs.

Per batch polled from Kafka, ONE database transaction (a `shared.mailbox` transaction):

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

import heapq
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

import structlog

from shared.backoff import RetryPolicy, retry
from shared.clock import Clock
from shared.crash import CrashPoints
from shared.deadletter import DeadLetterReason, dead_letter
from shared.failures import describe, is_transient, root_cause
from shared.handover import OutboxSink
from shared.health import Readiness
from shared.intake import Intake, Record
from shared.mailbox import Mailbox
from shared.messages import Incoming, Outgoing
from shared.metrics import WorkerMetrics
from shared.tracing import Tracing

log = structlog.stdlib.get_logger("salesflow.runtime")

T = TypeVar("T")
ConnT = TypeVar("ConnT")
ConnT_contra = TypeVar("ConnT_contra", contravariant=True)


class Stage(Protocol[ConnT_contra]):
    """A service's share of a batch: load what it touches, decide per message, save.

    Called inside the batch transaction with only the messages the inbox has not seen, in
    the order Kafka delivered them. Returns the events to publish. Business refusals are
    events (`*.rejected`), never exceptions; an exception means the data could not be applied.
    """

    async def apply(
        self, conn: ConnT_contra, batch: Sequence[Incoming[Any]], now: datetime
    ) -> Sequence[Outgoing]: ...


class BatchDeferred(Exception):  # noqa: N818 - a signal to the caller, not an error to report
    """The batch could not be applied now (infrastructure down); read it again later."""


@dataclass(frozen=True, slots=True)
class _Applied:
    """What one transaction did: the messages applied, the duplicates dropped, what it emits."""

    fresh: list[Incoming[Any]]
    duplicates: int
    outgoing: list[Outgoing]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    records: int
    processed: int
    duplicates: int
    dead_lettered: int
    published: int


class BatchRuntime(Generic[ConnT]):
    """Applies polled batches with effectively-once effects; see the module docstring."""

    def __init__(
        self,
        *,
        service: str,
        stage: Stage[ConnT],
        mailbox: Mailbox[ConnT],
        intake: Intake,
        dead_letter_topic: str,
        clock: Clock,
        metrics: WorkerMetrics,
        readiness: Readiness,
        retry_policy: RetryPolicy,
        outbox: OutboxSink,
        crash: CrashPoints | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._service = service
        self._stage = stage
        self._mailbox = mailbox
        self._intake = intake
        self._dlq_topic = dead_letter_topic
        self._clock = clock
        self._metrics = metrics
        self._readiness = readiness
        self._retry = retry_policy
        self._outbox = outbox
        self._crash = crash or CrashPoints()
        self._tracing = tracing or Tracing.off(service)

    async def handle(self, records: Sequence[Record]) -> BatchOutcome:
        """Apply one polled batch. Raises BatchDeferred when it must be read again."""
        started = time.perf_counter()
        now = self._clock.now()
        decoded: list[Incoming[Any]] = []
        sources: list[Record] = []
        parked: list[Outgoing] = []
        seen: set[UUID] = set()
        in_batch_duplicates = 0
        # A span for the batch, linked to every record's incoming trace context, and one per
        # message in its own trace, whose context what the message causes carries (shared.tracing).
        traced = self._tracing.batch(len(records))
        for record in in_write_order(records):
            result = self._intake.read(record)
            if isinstance(result, DeadLetterReason):
                traced.link(record.headers)
                parked.append(self._park(record, result, now))
                continue
            if result.event_id in seen:
                in_batch_duplicates += 1
                continue
            seen.add(result.event_id)
            context = traced.message(record, result)
            decoded.append(result if context is None else replace(result, trace=context))
            sources.append(record)
        try:
            outcome = await self._apply(
                records, decoded, sources, parked, in_batch_duplicates, now, started
            )
        except BaseException as error:
            traced.end({}, error)
            raise
        traced.end(
            {
                "salesflow.processed": outcome.processed,
                "salesflow.duplicates": outcome.duplicates,
                "salesflow.dead_lettered": outcome.dead_lettered,
                "salesflow.published": outcome.published,
            }
        )
        return outcome

    async def _apply(
        self,
        records: Sequence[Record],
        decoded: list[Incoming[Any]],
        sources: list[Record],
        parked: list[Outgoing],
        in_batch_duplicates: int,
        now: datetime,
        started: float,
    ) -> BatchOutcome:
        try:
            applied = [await self._retrying(lambda: self._commit(decoded, parked, now))]
        except BatchDeferred:
            raise
        except Exception as error:  # noqa: BLE001 - any non-transient failure: find the culprit message
            log.warning(
                "batch_failed_replaying_per_message",
                records=len(records),
                error_class=type(root_cause(error)).__name__,
            )
            applied, parked = await self._one_by_one(decoded, sources, parked, now)

        fresh = [m for a in applied for m in a.fresh]
        published = [o for a in applied for o in a.outgoing]
        self._hops(fresh, decoded, sources)
        duplicates = in_batch_duplicates + sum(a.duplicates for a in applied)
        self._count(len(records), fresh, duplicates, parked, published, started)
        return BatchOutcome(
            records=len(records),
            processed=len(fresh),
            duplicates=duplicates,
            dead_lettered=len(parked),
            published=len(published),
        )

    def _hops(
        self,
        fresh: Sequence[Incoming[Any]],
        decoded: Sequence[Incoming[Any]],
        sources: Sequence[Record],
    ) -> None:
        """Each applied message's hop latency: its record's timestamp to now (the wall clock,
        not the service's clock, which a drill may shift)."""
        if not fresh:
            return
        applied = {id(m) for m in fresh}
        done_ms = time.time() * 1000
        by_topic: dict[str, Any] = {}
        for message, record in zip(decoded, sources, strict=True):
            if id(message) in applied:
                child = by_topic.get(record.topic)
                if child is None:
                    child = by_topic[record.topic] = self._metrics.hop_latency.labels(
                        self._service, record.topic
                    )
                child.observe(max(0.0, done_ms - record.timestamp) / 1000)

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
        self, decoded: Sequence[Incoming[Any]], parked: Sequence[Outgoing], now: datetime
    ) -> _Applied:
        outgoing: list[Outgoing] = []
        fresh: list[Incoming[Any]] = []
        async with self._mailbox.transaction() as tx:
            if decoded:
                claimed = await tx.claim([m.event_id for m in decoded])
                fresh = [m for m in decoded if m.event_id in claimed]
            if fresh:
                outgoing.extend(await self._stage.apply(tx.connection, fresh, now))
            self._crash.reached("in_transaction")
            records = [*outgoing, *parked]
            seen = self._outbox.pending()
            posted = await tx.post(records, seen.ids)
        self._crash.reached("after_db_commit")
        if records:
            self._outbox.committed(records, posted.ids, alone=posted.alone, seen=seen)
        return _Applied(fresh, len(decoded) - len(fresh), outgoing)

    async def _one_by_one(
        self,
        decoded: Sequence[Incoming[Any]],
        sources: Sequence[Record],
        parked: list[Outgoing],
        now: datetime,
    ) -> tuple[list[_Applied], list[Outgoing]]:
        applied: list[_Applied] = []
        parked = list(parked)
        for message, record in zip(decoded, sources, strict=True):
            structlog.contextvars.bind_contextvars(
                event_id=str(message.event_id), deal_id=message.deal_id, offset=record.offset
            )
            try:
                applied.append(await self._retrying(self._commit_one(message, now)))
            except BatchDeferred:
                raise
            except Exception as error:  # noqa: BLE001 - the message's own fault: park it, go on
                reason = DeadLetterReason.processing_failed(error)
                parked.append(self._park(record, reason, now))
            finally:
                structlog.contextvars.unbind_contextvars("event_id", "deal_id", "offset")
        if parked:
            applied.append(await self._retrying(lambda: self._commit([], parked, now)))
        return applied, parked

    def _commit_one(
        self, message: Incoming[Any], now: datetime
    ) -> Callable[[], Awaitable[_Applied]]:
        return lambda: self._commit([message], [], now)

    async def _retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await retry(
                operation,
                policy=self._retry,
                retryable=is_transient,
                on_retry=self._transient,
            )
        except Exception as error:
            if is_transient(error):
                self._transient(error, None)
                log.warning("batch_deferred", error_class=type(error).__name__)
                raise BatchDeferred(describe(error)) from error
            raise
        self._readiness.set_database(ok=True)
        return result

    def _transient(self, error: BaseException, retry_in_s: float | None) -> None:
        self._metrics.transient_errors.labels(self._service).inc()
        self._readiness.set_database(ok=False, detail=describe(error))
        if retry_in_s is not None:
            log.warning(
                "transient_failure_retrying",
                error_class=type(error).__name__,
                error=describe(error),
                retry_in_s=retry_in_s,
            )

    def _count(
        self,
        records: int,
        fresh: Sequence[Incoming[Any]],
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
            m.emitted.labels(svc, out.event_type).inc()
            if out.is_rejection:
                m.rejected.labels(svc, out.event_type).inc()
            if out.amount is not None:
                m.amounts.labels(svc, out.event_type, out.amount[0]).inc(out.amount[1])
        m.batch_size.labels(svc).observe(records)
        m.batch_seconds.labels(svc).observe(time.perf_counter() - started)


def in_write_order(records: Sequence[Record]) -> Sequence[Record]:
    """A polled batch in the order its records were written, as far as timestamps tell.

    A fetch hands over a batch partition by partition, in an order that says nothing about
    time, so a capture on one topic and an update of it published just after on another could
    be applied update first (and refused: unknown lead) although both arrived together. Each
    partition keeps its own order (the log's: what per-key ordering rests on, even if a
    producer's clock went back); the partitions are merged by timestamp, the earlier partition
    of the batch first on a tie. Across batches nothing changes: no consumer can wait for a
    record it has not received."""
    by_partition: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        by_partition.setdefault((record.topic, record.partition), []).append(record)
    if len(by_partition) < 2:
        return records
    return list(heapq.merge(*by_partition.values(), key=lambda r: r.timestamp))


def _header(record: Outgoing, name: str) -> str:
    for key, value in record.headers:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return ""
