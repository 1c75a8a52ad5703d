"""The outbox relay: moves committed outbox rows to Kafka, in order, at least once.

One relay is active per service at any time: each relay transaction first takes a transaction-
scoped advisory lock, so relays of several worker processes never interleave (interleaving
would reorder one deal's events). A transaction reads the oldest rows (`ORDER BY id ... FOR
UPDATE SKIP LOCKED`), sends them all with the idempotent producer, awaits every broker ack,
deletes them and commits. A crash after the acks and before the commit re-sends those rows;
the same event ids reach Kafka twice and the consumers' inboxes absorb them. A delete queue is
used rather than a `WHERE id > last_seen` cursor, which skips rows whose lower id commits late.

The worker wakes the relay right after each business commit (low latency) and the relay also
polls (rows committed by another process, or left by a crashed one).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.consumer import CrashPoints, RetryPolicy
from shared.db import SchemaSql, advisory_key, is_transient, root_cause
from shared.health import Readiness
from shared.messages import unpack_headers
from shared.metrics import WorkerMetrics

log = structlog.stdlib.get_logger("salesflow.relay")

STATS_EVERY_S = 2.0
PURGE_EVERY_S = 600.0


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    # aiokafka's defaults are acks=1 without idempotence: a leader crash could drop acked
    # events and a retry could duplicate or reorder them within the session.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
        compression_type=None,
    )


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        producer_factory: Callable[[], AIOKafkaProducer],
        metrics: WorkerMetrics,
        readiness: Readiness,
        batch_size: int,
        poll_interval_s: float,
        retry: RetryPolicy,
        inbox_retention_s: float,
        crash: CrashPoints | None = None,
    ) -> None:
        self._service = service
        self._engine = engine
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._metrics = metrics
        self._readiness = readiness
        self._batch_size = batch_size
        self._poll = poll_interval_s
        self._retry = retry
        self._retention_s = inbox_retention_s
        self._crash = crash or CrashPoints()
        self._sql = SchemaSql(service)
        self._lock_key = advisory_key(f"salesflow.relay.{service}")
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._producer_started = False
        self._next_stats = 0.0
        self._next_purge = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        await self._start_producer()
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-relay")

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Stop after publishing what is committed (bounded by drain_timeout_s)."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=drain_timeout_s)
            except TimeoutError:
                log.warning("relay_drain_timed_out", timeout_s=drain_timeout_s)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._producer is not None and self._producer_started:
            await self._producer.stop()
            self._producer_started = False

    async def _start_producer(self) -> None:
        delay = self._retry.initial_s
        while True:
            # aiokafka binds a client to the running loop, so it is built here, not in the factory.
            self._producer = self._producer_factory()
            try:
                await self._producer.start()
            except Exception as error:
                if not is_transient(error):
                    raise
                await self._producer.stop()
                self._readiness.set_broker(ok=False, detail=f"{type(error).__name__}: {error}")
                log.warning("producer_start_retrying", error=str(error)[:200], retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry.max_s)
            else:
                self._producer_started = True
                self._readiness.set_broker(ok=True)
                return

    async def _run(self) -> None:
        delay = self._retry.initial_s
        while True:
            try:
                sent = await self.relay_once()
                await self._housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                transient = is_transient(error)
                log.warning(
                    "relay_failed_retrying",
                    error_class=type(error).__name__,
                    error=str(error)[:300],
                    transient=transient,
                    retry_in_s=delay,
                )
                detail = f"{type(error).__name__}: {error}"
                if isinstance(root_cause(error), KafkaError):
                    self._readiness.set_broker(ok=False, detail=detail)
                else:
                    self._readiness.set_database(ok=False, detail=detail)
                if self._stopping:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry.max_s)
                continue
            delay = self._retry.initial_s
            self._readiness.set_broker(ok=True)
            self._readiness.set_database(ok=True)
            # A batch shorter than the limit emptied the outbox as of its SELECT; rows committed
            # since then set the wake event, so the wait below returns at once for them. Going
            # round again unconditionally cost an empty transaction after every pass. While
            # stopping, drain until a pass finds nothing.
            if sent >= self._batch_size or (sent and self._stopping):
                continue
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of the oldest rows; 0 when idle or another relay is active."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("relay not started")
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    text(self._sql.select_outbox),
                    {"key": self._lock_key, "limit": self._batch_size},
                )
            ).all()
            if not rows:
                return 0
            deliveries = [
                await producer.send(
                    row.topic, value=row.payload, key=row.key, headers=unpack_headers(row.headers)
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            self._crash.reached("relay_after_ack")
            await conn.execute(text(self._sql.delete_outbox), {"ids": [row.id for row in rows]})
        self._metrics.published.labels(self._service).inc(len(rows))
        return len(rows)

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_stats:
            self._next_stats = now + STATS_EVERY_S
            async with self._engine.connect() as conn:
                count, age = (await conn.execute(text(self._sql.outbox_stats))).one()
            self._metrics.outbox_backlog.labels(self._service).set(count)
            self._metrics.outbox_oldest_age.labels(self._service).set(float(age or 0))
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY_S
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    text(self._sql.purge_inbox), {"secs": self._retention_s}
                )
            log.info("inbox_purged", rows=getattr(result, "rowcount", -1))
