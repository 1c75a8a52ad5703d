"""Composition of one worker process: broker, subscriber, runtime, relay, health.

Each service's `main.create_app(settings)` builds its Stage and calls `build_worker`; nothing
here runs at import time. The subscriber is a FastStream batch subscriber with
`AckPolicy.MANUAL`: the runtime commits the batch to PostgreSQL first, and only then are the
Kafka offsets committed (`ack`). Any batch not committed is `nack`ed, which seeks every
partition of the batch back to its first record, because under MANUAL an ack commits the
consumer's position on every assigned partition and would otherwise skip a failed batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Union, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.message import KafkaMessage as KafkaStreamMessage
from faststream.message import StreamMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import envelope_type
from contracts.topics import TopicSpec, topic
from shared.clock import Clock, OffsetClock, SystemClock
from shared.consumer import BatchDeferred, BatchRuntime, CrashPoints, RetryPolicy, Stage
from shared.db import is_transient, make_engine
from shared.health import HealthServer, Readiness
from shared.metrics import WorkerMetrics
from shared.migrations import upgrade_async
from shared.relay import OutboxRelay, make_producer
from shared.settings import RuntimeSettings
from shared.topics_admin import ensure_topics

log = structlog.stdlib.get_logger("salesflow.worker")

STARTUP_BUDGET_S = 180.0
PROBE_EVERY_S = 2.0


@dataclass(frozen=True)
class WorkerSpec:
    """What a service declares about its worker: its name and what it consumes and publishes."""

    service: str
    consumes: tuple[str, ...]
    publishes: tuple[str, ...]
    description: str = ""

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service}.dlq"

    @property
    def group_id(self) -> str:
        return self.service

    def topic_specs(self) -> list[TopicSpec]:
        names = {*self.consumes, *self.publishes, self.dead_letter_topic}
        return [topic(name) for name in sorted(names)]


@dataclass
class Worker:
    """Handles on the running parts, for the CLI, tests and the health server."""

    spec: WorkerSpec
    app: FastStream
    broker: KafkaBroker
    engine: AsyncEngine
    runtime: BatchRuntime
    relay: OutboxRelay
    health: HealthServer
    readiness: Readiness
    metrics: WorkerMetrics
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


class _AssignmentListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Reports group membership to readiness and logs assignments.

    Nothing needs committing on revocation: offsets are committed right after each batch's
    database commit, and a batch still in flight when its partitions move is redelivered to
    the new owner, whose inbox drops what this member already committed.
    """

    def __init__(self, readiness: Readiness, service: str) -> None:
        self._readiness = readiness
        self._service = service

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        log.info(
            "partitions_revoked", partitions=sorted(f"{p.topic}:{p.partition}" for p in revoked)
        )

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self._readiness.set_assigned(ok=True)
        log.info(
            "partitions_assigned", partitions=sorted(f"{p.topic}:{p.partition}" for p in assigned)
        )


def build_worker(
    settings: RuntimeSettings,
    spec: WorkerSpec,
    stage: Stage,
    *,
    clock: Clock | None = None,
    extra_startup: Sequence[Callable[[AsyncEngine], Awaitable[None]]] = (),
) -> Worker:
    """Wire a worker; nothing connects until the returned app starts."""
    if clock is None:
        offset = timedelta(days=settings.clock_offset_days)
        clock = OffsetClock(offset) if offset else SystemClock()
    engine = make_engine(
        settings.sqlalchemy_url(), pool_size=settings.db_pool_size, application_name=spec.service
    )
    metrics = WorkerMetrics(spec.service)
    readiness = Readiness()
    retry = RetryPolicy(settings.retry_initial_s, settings.retry_max_s, settings.transient_budget_s)
    crash = CrashPoints(settings.crash_point, settings.crash_after)
    client_id = f"{spec.service}-{socket.gethostname()}-{os.getpid()}"
    relay = OutboxRelay(
        service=spec.service,
        engine=engine,
        producer_factory=lambda: make_producer(settings.kafka_bootstrap, client_id),
        metrics=metrics,
        readiness=readiness,
        batch_size=settings.relay_batch_size,
        poll_interval_s=settings.relay_poll_interval_s,
        retry=retry,
        inbox_retention_s=settings.inbox_retention_hours * 3600,
        crash=crash,
    )
    runtime = BatchRuntime(
        service=spec.service,
        stage=stage,
        engine=engine,
        accepted={name: frozenset(topic(name).event_types) for name in spec.consumes},
        dead_letter_topic=spec.dead_letter_topic,
        clock=clock,
        metrics=metrics,
        readiness=readiness,
        retry=retry,
        max_message_bytes=settings.max_message_bytes,
        outbox=relay,
        crash=crash,
    )
    quiet = logging.getLogger("faststream.quiet")
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        allow_auto_create_topics=False,
        graceful_timeout=settings.graceful_timeout_s,
        logger=quiet,
        log_level=logging.DEBUG,
    )
    health = HealthServer(readiness, metrics, settings.health_host, settings.health_port)
    subscriber_box: list[Any] = []

    async def parse(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> StreamMessage[Any]:
        # Replaces FastStream's batch parser, which decodes every header as UTF-8 and loses the
        # whole batch on one bad header (faststream#2458). Headers are judged by the runtime.
        first, last = records[0], records[-1]
        return _BatchMessage(
            body=records,
            headers={},
            batch_headers=[],
            reply_to="",
            content_type=None,
            message_id=f"{first.topic}-{first.partition}-{first.offset}-{last.offset}",
            correlation_id=None,
            raw_message=records,
            consumer=subscriber_box[0].consumer,
        )

    async def decode(message: StreamMessage[Any]) -> Any:
        return message.raw_message

    subscriber = broker.subscriber(
        *spec.consumes,
        group_id=spec.group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        fetch_min_bytes=settings.fetch_min_bytes,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        listener=_AssignmentListener(readiness, spec.service),
        parser=parse,
        decoder=decode,
        title=f"{spec.service}:batch",
        description=spec.description,
    )
    subscriber_box.append(subscriber)

    commits = _OffsetCommits()

    @subscriber
    async def on_batch(message: KafkaMessage) -> None:
        await _consume(runtime, commits, message)

    # Declared for the AsyncAPI document only: events leave through the outbox relay's own
    # idempotent producer, never through FastStream publishers.
    for name in spec.publishes:
        event_types = topic(name).event_types
        broker.publisher(
            name,
            title=name,
            schema=Union[tuple(envelope_type(et) for et in event_types)],  # noqa: UP007
            description=f"{spec.service} publishes {', '.join(event_types)}",
            include_in_schema=True,
        )

    app = FastStream(broker, logger=log)
    worker = Worker(
        spec=spec,
        app=app,
        broker=broker,
        engine=engine,
        runtime=runtime,
        relay=relay,
        health=health,
        readiness=readiness,
        metrics=metrics,
    )

    async def prepare() -> None:
        await health.start()
        await _until_available(
            "migrations+topics",
            lambda: _prepare(settings, spec, engine, extra_startup),
        )
        readiness.set_database(ok=True)
        await relay.start()
        # Everything built so far (modules, pydantic validators, SQLAlchemy metadata) lives as
        # long as the process: move it out of the collector's reach, so the full collections
        # the hot path triggers do not traverse ~1M long-lived objects each time (latency spikes).
        gc.collect()
        gc.freeze()
        worker._tasks.append(asyncio.create_task(_probe(engine, broker, readiness)))

    async def finish() -> None:
        # After the broker stopped (in-flight batch finished and acked): drain what it committed.
        for task in worker._tasks:
            task.cancel()
        await relay.stop(drain_timeout_s=settings.graceful_timeout_s)
        await health.stop()
        await engine.dispose()
        log.info("worker_stopped", service=spec.service)

    app.on_startup(prepare)
    app.on_shutdown(commits.flush)
    app.after_shutdown(finish)
    return worker


class _BatchMessage(KafkaAckableMessage):
    """A polled batch whose ack commits only the partitions the batch read, each at the offset
    after its last record.

    FastStream's ack commits the consumer's position on every assigned partition (18 offset
    records per commit for order_svc, for a batch that often touches one); the commit is
    awaited before the next poll, so its size is paid at every hop. The offsets are the same
    for the partitions in the batch, and the others have not moved since their last commit.
    """

    async def ack(self) -> None:
        if not self.committed:
            offsets: dict[TopicPartition, int] = {}
            for record in self.raw_message:
                tp = TopicPartition(record.topic, record.partition)
                offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
            await cast("AIOKafkaConsumer", self.consumer).commit(offsets)
        await KafkaStreamMessage.ack(self)  # marks it acked, without a second commit


class _OffsetCommits:
    """Kafka offset commits off the consume path: at most one in flight, always in order.

    A batch's offsets are committed only after its database transaction committed (as before);
    the commit's round trip (several ms, more on a busy broker) now overlaps the next poll and
    batch instead of delaying every hop. A crash before a commit lands redelivers batches the
    inbox already holds, exactly as a crash between the database commit and the offset commit
    always could. From shutdown on (`flush`, before the broker stops consuming) commits are
    awaited again, so a clean stop leaves nothing to redeliver.
    """

    def __init__(self) -> None:
        self._last: asyncio.Task[None] | None = None
        self._stopping = False

    async def commit(self, message: KafkaStreamMessage) -> None:
        await self._wait_last()
        if self._stopping:
            await self._ack(message)
        else:
            self._last = asyncio.create_task(self._ack(message))

    async def flush(self) -> None:
        self._stopping = True
        await self._wait_last()

    async def _wait_last(self) -> None:
        if self._last is not None:
            await asyncio.shield(self._last)
            self._last = None

    @staticmethod
    async def _ack(message: KafkaStreamMessage) -> None:
        try:
            await message.ack()
        except Exception as error:  # a background task: report, never raise
            # Effects are committed; the records will be redelivered (rebalance, lost broker,
            # stopped consumer) and the inbox drops them. Nothing else to do.
            log.warning("offset_commit_failed", error_class=type(error).__name__, error=str(error))


async def _consume(
    runtime: BatchRuntime, commits: _OffsetCommits, message: KafkaStreamMessage
) -> None:
    records = message.raw_message
    first = records[0]
    structlog.contextvars.bind_contextvars(topic=first.topic, partition=first.partition)
    try:
        outcome = await runtime.handle(records)
    except BatchDeferred:
        await _rewind(message)
        return
    except asyncio.CancelledError:
        raise
    except Exception:
        # Not expected (the runtime classifies errors itself); never ack what was not applied.
        log.exception("batch_failed_unexpectedly", records=len(records))
        await _rewind(message)
        await asyncio.sleep(1.0)
        return
    finally:
        structlog.contextvars.unbind_contextvars("topic", "partition")
    await commits.commit(message)
    log.debug(
        "batch_done",
        records=outcome.records,
        processed=outcome.processed,
        duplicates=outcome.duplicates,
        dead_lettered=outcome.dead_lettered,
    )


async def _rewind(message: KafkaStreamMessage) -> None:
    try:
        await message.nack()
    except Exception as error:
        log.warning("batch_rewind_failed", error_class=type(error).__name__, error=str(error))


async def _prepare(
    settings: RuntimeSettings,
    spec: WorkerSpec,
    engine: AsyncEngine,
    extra: Sequence[Callable[[AsyncEngine], Awaitable[None]]],
) -> None:
    if settings.migrate_on_start:
        await upgrade_async(settings.sqlalchemy_url(), spec.service)
    if settings.create_topics_on_start:
        await ensure_topics(settings.kafka_bootstrap, spec.topic_specs())
    for step in extra:
        await step(engine)


async def _until_available(what: str, step: Callable[[], Awaitable[None]]) -> None:
    """Retry a start-up step while its failure is about unreachable infrastructure."""
    deadline = time.monotonic() + STARTUP_BUDGET_S
    delay = 0.5
    while True:
        try:
            await step()
        except Exception as error:
            if not is_transient(error) or time.monotonic() + delay > deadline:
                raise
            log.warning("startup_waiting", step=what, error=str(error)[:200], retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            return


async def _probe(engine: AsyncEngine, broker: KafkaBroker, readiness: Readiness) -> None:
    """Keeps /readyz honest while the worker is idle (no batch or relay pass to notice)."""
    while True:
        await asyncio.sleep(PROBE_EVERY_S)
        try:
            async with asyncio.timeout(PROBE_EVERY_S):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            readiness.set_database(ok=True)
        except Exception as error:
            readiness.set_database(ok=False, detail=f"{type(error).__name__}: {error}")
        with contextlib.suppress(Exception):
            ok = await broker.ping(timeout=PROBE_EVERY_S)
            readiness.set_broker(ok=bool(ok), detail="" if ok else "broker ping failed")
