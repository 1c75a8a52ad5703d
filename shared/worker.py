"""Composition of one worker process: mailbox, runtime, relay, subscriber, health.

Each service's `main.build(settings)` assembles its `HandlerStage` and calls `build_worker`;
nothing here connects until the returned app starts. How a batch is consumed and acknowledged is
in `shared.subscription`, what happens inside it in `shared.runtime`, how events leave in
`shared.relay`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Union

import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import envelope_type
from contracts.stages import Stage
from contracts.topics import TopicSpec, consumed_by, published_by, topic
from shared import kafka_clients, tolerant_records
from shared.backoff import RetryPolicy
from shared.clock import Clock, OffsetClock, SystemClock
from shared.crash import CrashPoints
from shared.db import make_engine
from shared.depth import dead_letter_depth_forever
from shared.health import HealthServer, Readiness
from shared.intake import Intake
from shared.mailbox.postgres import PostgresMailbox
from shared.metrics import WorkerMetrics
from shared.progress import PartitionProgress
from shared.relay import OutboxRelay, make_producer
from shared.retention import purge_inbox_forever
from shared.runtime import BatchRuntime
from shared.settings import RuntimeSettings
from shared.stage import HandlerStage
from shared.startup import prepare, until_available, watch
from shared.subscription import OffsetCommits, subscribe
from shared.ticker import TICK_TOPIC, Ticker
from shared.trace_export import tracing_for

log = structlog.stdlib.get_logger("salesflow.worker")


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker consumes and publishes, derived from the stage registry and the topic map."""

    stage: Stage

    @property
    def service(self) -> str:
        return self.stage.service

    @property
    def description(self) -> str:
        return self.stage.does

    @property
    def consumes(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in consumed_by(self.service))

    @property
    def publishes(self) -> tuple[str, ...]:
        """Its outbound topics (the dead-letter topic aside)."""
        return tuple(
            spec.name
            for spec in published_by(self.service)
            if spec.name != self.stage.dead_letter_topic
        )

    @property
    def consumed_event_types(self) -> frozenset[str]:
        return frozenset(et for spec in consumed_by(self.service) for et in spec.event_types)

    @property
    def dead_letter_topic(self) -> str:
        return self.stage.dead_letter_topic

    @property
    def group_id(self) -> str:
        return self.stage.group_id

    def topic_specs(self) -> list[TopicSpec]:
        names = {*self.consumes, *self.publishes, self.dead_letter_topic}
        return [topic(name) for name in sorted(names)]

    def check_handles(self, handled: frozenset[str]) -> None:
        """Fail at build time, not by a dead letter at run time, when the handler table and the
        topic map disagree."""
        missing = sorted(self.consumed_event_types - handled)
        extra = sorted(handled - self.consumed_event_types)
        if missing or extra:
            raise ValueError(
                f"{self.service}: handlers and topic map disagree; no handler for {missing}, "
                f"handlers for types it does not consume: {extra}"
            )


@dataclass
class Worker:
    """Handles on the running parts, for the CLI, tests and the health server."""

    spec: WorkerSpec
    app: FastStream
    broker: KafkaBroker
    subscriber: BatchSubscriber
    engine: AsyncEngine
    runtime: BatchRuntime[Any]
    relay: OutboxRelay
    health: HealthServer
    readiness: Readiness
    metrics: WorkerMetrics
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_worker(
    settings: RuntimeSettings,
    stage: Stage,
    handling: HandlerStage[Any, Any, Any],
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Worker:
    """Wire a worker; nothing connects until the returned app starts.

    `tracer_provider`: where its spans go (a test's in-memory exporter); None: the OpenTelemetry
    SDK when the standard OTEL_* variables ask for it (shared.trace_export), else no tracing."""
    spec = WorkerSpec(stage)
    spec.check_handles(handling.consumed_event_types())
    # Only a worker with time rules ticks: it is the one that needs the ticks to flow.
    ticks = TICK_TOPIC in spec.consumes
    tolerant_records.install()
    engine = make_engine(
        settings.sqlalchemy_url(),
        pool_size=settings.db_pool_size,
        application_name=spec.service,
    )
    mailbox = PostgresMailbox(engine, spec.service)
    metrics = WorkerMetrics(spec.service)
    readiness = Readiness()
    retry_policy = RetryPolicy(
        settings.retry_initial_s, settings.retry_max_s, settings.transient_budget_s
    )
    crash = CrashPoints(settings.crash_point, settings.crash_after)
    clock = clock or _clock(settings)
    client_id = f"{spec.service}-{socket.gethostname()}-{os.getpid()}"
    tracing, exporting = tracing_for(spec.service, tracer_provider)
    relay = OutboxRelay(
        service=spec.service,
        mailbox=mailbox,
        producer_factory=lambda: make_producer(
            settings.kafka_bootstrap, client_id, settings.kafka_security
        ),
        metrics=metrics,
        readiness=readiness,
        batch_size=settings.relay_batch_size,
        poll_interval_s=settings.relay_poll_interval_s,
        retry_policy=retry_policy,
        crash=crash,
    )
    runtime = BatchRuntime(
        service=spec.service,
        stage=handling,
        mailbox=mailbox,
        intake=Intake(
            {name: frozenset(topic(name).event_types) for name in spec.consumes},
            settings.max_message_bytes,
        ),
        dead_letter_topic=spec.dead_letter_topic,
        clock=clock,
        metrics=metrics,
        readiness=readiness,
        retry_policy=retry_policy,
        outbox=relay,
        crash=crash,
        tracing=tracing,
    )
    broker = kafka_clients.broker(
        settings.kafka_bootstrap,
        security=settings.kafka_security,
        client_id=client_id,
        allow_auto_create_topics=False,
        graceful_timeout=settings.graceful_timeout_s,
        logger=logging.getLogger("faststream.quiet"),
        log_level=logging.DEBUG,
    )
    commits = OffsetCommits()
    subscriber = subscribe(
        broker,
        topics=spec.consumes,
        group_id=spec.group_id,
        description=spec.description,
        settings=settings,
        readiness=readiness,
        runtime=runtime,
        commits=commits,
    )
    _declare_publishers(broker, spec)
    health = HealthServer(readiness, metrics, settings.health_host, settings.health_port)
    progress = PartitionProgress(spec.service, metrics, readiness, settings.stall_after_s)
    app = FastStream(broker, logger=log)
    worker = Worker(
        spec=spec,
        app=app,
        broker=broker,
        subscriber=subscriber,
        engine=engine,
        runtime=runtime,
        relay=relay,
        health=health,
        readiness=readiness,
        metrics=metrics,
    )

    async def start() -> None:
        await health.start()
        # Wrong credentials or an untrusted certificate end the start here, with a message
        # naming what to fix, instead of minutes of retries that look like a broker outage.
        await until_available(
            "kafka",
            lambda: kafka_clients.check_access(settings.kafka_bootstrap, settings.kafka_security),
        )
        await until_available(
            "migrations+topics", lambda: prepare(settings, spec.service, spec.topic_specs())
        )
        readiness.set_database(ok=True)
        await relay.start()
        # Everything built so far (modules, pydantic validators, SQLAlchemy metadata) lives as
        # long as the process: move it out of the collector's reach, so the full collections
        # the hot path triggers do not traverse ~1M long-lived objects each time (latency spikes).
        gc.collect()
        gc.freeze()
        worker.tasks.append(
            asyncio.create_task(watch(mailbox, broker, subscriber, readiness, progress))
        )
        worker.tasks.append(
            asyncio.create_task(purge_inbox_forever(mailbox, settings.inbox_retention_hours * 3600))
        )
        worker.tasks.append(
            asyncio.create_task(
                dead_letter_depth_forever(
                    subscriber, topic(spec.dead_letter_topic), metrics, spec.service
                )
            )
        )
        if settings.tick_seconds and ticks:
            ticker = Ticker(
                clock=clock,
                period_seconds=settings.tick_seconds,
                producer_factory=lambda: make_producer(
                    settings.kafka_bootstrap, client_id, settings.kafka_security
                ),
            )
            worker.tasks.append(asyncio.create_task(ticker.run()))

    async def stop() -> None:
        # After the broker stopped (in-flight batch finished and acked): drain what it committed.
        for task in worker.tasks:
            task.cancel()
        # Awaited, so the ticker's producer is closed before the loop ends.
        await asyncio.gather(*worker.tasks, return_exceptions=True)
        await relay.stop(drain_timeout_s=settings.graceful_timeout_s)
        await health.stop()
        await engine.dispose()
        if exporting is not None:
            # Spans still batched in memory are exported before the process ends.
            await asyncio.to_thread(exporting.shutdown)
        log.info("worker_stopped", service=spec.service)

    app.on_startup(start)
    app.on_shutdown(commits.flush)
    app.after_shutdown(stop)
    return worker


def _clock(settings: RuntimeSettings) -> Clock:
    offset = timedelta(days=settings.clock_offset_days)
    return OffsetClock(offset) if offset else SystemClock()


def _declare_publishers(broker: KafkaBroker, spec: WorkerSpec) -> None:
    """Declared for the AsyncAPI document only: events leave through the outbox relay's own
    idempotent producer, never through FastStream publishers."""
    for name in spec.publishes:
        event_types = topic(name).event_types
        broker.publisher(
            name,
            title=name,
            schema=Union[tuple(envelope_type(et) for et in event_types)],  # noqa: UP007 - a runtime Union of a tuple
            description=f"{spec.service} publishes {', '.join(event_types)}",
            include_in_schema=True,
        )
