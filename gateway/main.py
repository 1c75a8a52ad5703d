"""Composition root of the gateway: `build_gateway(...)` wires it, `serve(...)` runs it.

Run with `salesflow gateway`. The same parts a worker has, minus the consumer: the shared
PostgreSQL mailbox (inbox + outbox in the gateway's schema), the shared relay with the idempotent
producer, the inbox purge (the idempotency window), crash points for the fault tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import GatewayParts, Reads, create_app
from gateway.clients import Clients
from gateway.commands import INBOUND_TOPICS
from gateway.kafka import kafka_client
from gateway.settings import GatewaySettings
from gateway.store import SCHEMA, RequestLog
from salesflow.book_commands import receivables_text
from salesflow.rendering import OutputFormat
from salesflow.tracing import TracedEvent, deal_of, read_deal
from shared.backoff import RetryPolicy
from shared.clock import Clock, SystemClock
from shared.crash import CrashPoints
from shared.db import make_engine
from shared.failures import describe
from shared.health import Readiness
from shared.mailbox.postgres import PostgresMailbox
from shared.metrics import WorkerMetrics
from shared.migrations import upgrade_async
from shared.relay import OutboxRelay
from shared.retention import purge_inbox_forever
from shared.settings import RuntimeSettings
from shared.startup import until_available
from shared.topics_admin import ensure_topics
from shared.trace_export import tracing_for

log = structlog.stdlib.get_logger("salesflow.gateway")

MIGRATIONS = "gateway:migrations"
PROBE_EVERY_S = 2.0


@dataclass
class Gateway:
    app: FastAPI
    settings: GatewaySettings
    engine: AsyncEngine
    relay: OutboxRelay
    readiness: Readiness
    metrics: WorkerMetrics
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_gateway(
    runtime: RuntimeSettings,
    settings: GatewaySettings,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Gateway:
    """Wire the gateway; nothing connects until its app starts (the ASGI lifespan).

    `tracer_provider`: where its spans go; None: the SDK when OTEL_* asks (shared.trace_export)."""
    clients = Clients(settings.all_clients(), tolerance_s=settings.signature_tolerance_s)
    if not len(clients):
        log.warning("gateway_has_no_clients", hint="set SALESFLOW_GATEWAY_CLIENTS(_FILE)")
    engine = make_engine(
        runtime.sqlalchemy_url(), pool_size=runtime.db_pool_size, application_name=SCHEMA
    )
    mailbox = PostgresMailbox(engine, SCHEMA)
    metrics = WorkerMetrics(SCHEMA)
    readiness = Readiness()
    readiness.set_assigned(ok=True)  # nothing to consume: always "assigned"
    crash = CrashPoints(runtime.crash_point, runtime.crash_after)
    tracing, exporting = tracing_for(SCHEMA, tracer_provider)
    client_id = f"{SCHEMA}-{socket.gethostname()}-{os.getpid()}"
    bootstrap = runtime.kafka_bootstrap
    relay = OutboxRelay(
        service=SCHEMA,
        mailbox=mailbox,
        producer_factory=lambda: kafka_client(
            "producer", bootstrap, client_id, runtime.kafka_security
        ),
        metrics=metrics,
        readiness=readiness,
        batch_size=runtime.relay_batch_size,
        poll_interval_s=runtime.relay_poll_interval_s,
        retry_policy=RetryPolicy(
            runtime.retry_initial_s, runtime.retry_max_s, runtime.transient_budget_s
        ),
        crash=crash,
    )
    gateway: Gateway

    async def start() -> None:
        await until_available("migrations+topics", lambda: _prepare(runtime, client_id))
        readiness.set_database(ok=True)
        await relay.start()
        gateway.tasks.append(
            asyncio.create_task(purge_inbox_forever(mailbox, runtime.inbox_retention_hours * 3600))
        )
        gateway.tasks.append(asyncio.create_task(_watch(mailbox, readiness)))
        log.info("gateway_started", clients=len(clients))

    async def stop() -> None:
        # Requests in flight have finished (the server stops them first): drain what they stored.
        for task in gateway.tasks:
            task.cancel()
        await relay.stop(drain_timeout_s=runtime.graceful_timeout_s)
        await engine.dispose()
        if exporting is not None:
            await asyncio.to_thread(exporting.shutdown)
        log.info("gateway_stopped")

    async def trace(ref: str) -> tuple[str, str | None, list[TracedEvent]]:
        deal_id, found_by = await deal_of(runtime.sqlalchemy_url(), ref)
        consumer = kafka_client("consumer", bootstrap, f"{client_id}-trace", runtime.kafka_security)
        admin = kafka_client("admin", bootstrap, f"{client_id}-trace", runtime.kafka_security)
        return deal_id, found_by, await read_deal(consumer, admin, deal_id)

    async def receivables(account: str | None, as_of: date | None, everything: bool) -> str:
        day = as_of or datetime.now(UTC).date()
        return await receivables_text(
            runtime.sqlalchemy_url(), account, day, OutputFormat.JSON, include_settled=everything
        )

    parts = GatewayParts(
        clients=clients,
        requests=RequestLog(mailbox, relay, crash),
        reads=Reads(trace=trace, receivables=receivables),
        clock=clock or SystemClock(),
        readiness=readiness,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        start=start,
        stop=stop,
        tracing=tracing,
    )
    gateway = Gateway(create_app(parts), settings, engine, relay, readiness, metrics)
    return gateway


async def _prepare(runtime: RuntimeSettings, client_id: str) -> None:
    if runtime.migrate_on_start:
        await upgrade_async(runtime.sqlalchemy_url(), SCHEMA, location=MIGRATIONS)
    if runtime.create_topics_on_start:
        admin = kafka_client(
            "admin", runtime.kafka_bootstrap, f"{client_id}-admin", runtime.kafka_security
        )
        await ensure_topics(
            runtime.kafka_bootstrap,
            INBOUND_TOPICS,
            replication_factor=runtime.kafka_replication_factor,
            admin=admin,
        )


async def _watch(mailbox: PostgresMailbox, readiness: Readiness) -> None:
    """Keep /readyz honest while no request or relay pass would notice an outage."""
    while True:
        await asyncio.sleep(PROBE_EVERY_S)
        try:
            async with asyncio.timeout(PROBE_EVERY_S):
                await mailbox.ping()
            readiness.set_database(ok=True)
        except Exception as error:  # noqa: BLE001 - a probe reports, it never stops the gateway
            readiness.set_database(ok=False, detail=describe(error))


async def serve(gateway: Gateway, **overrides: Any) -> None:
    """Run until SIGTERM/SIGINT: requests in flight finish, then the outbox drains."""
    config = uvicorn.Config(
        gateway.app,
        host=overrides.get("host", gateway.settings.host),
        port=overrides.get("port", gateway.settings.port),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(gateway.settings.shutdown_timeout_s),
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down, so the process would
    # die of its SIGTERM after a clean drain. A handler that does nothing is what it restores and
    # re-raises into instead: a clean stop exits 0, as a worker's does (SIGINT: no traceback).
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        await server.serve()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopped(_signal: int, _frame: FrameType | None) -> None:
    """A stop signal after uvicorn's own shutdown: nothing left to do."""
