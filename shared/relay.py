"""The outbox relay: moves committed outbox rows to Kafka, in order, at least once.

One relay is active per service at any time: each relay transaction first takes a transaction-
scoped advisory lock, so relays of several worker processes never interleave (interleaving
would reorder one deal's events). A transaction reads the oldest rows (`ORDER BY id ... FOR
UPDATE SKIP LOCKED`), sends them all with the idempotent producer, awaits every broker ack,
deletes them and commits. A crash after the acks and before the commit re-sends those rows;
the same event ids reach Kafka twice and the consumers' inboxes absorb them. A delete queue is
used rather than a `WHERE id > last_seen` cursor, which skips rows whose lower id commits late.

Fast path. Reading back rows the worker has just written costs a transaction of three or four
round trips per batch, each of which waits for a CPU on a busy machine. So the worker hands the
rows it committed (`committed`, with their outbox ids) straight to the relay, which publishes
them from memory, awaits the acks and deletes them by id (one autocommit statement). That is
allowed only when the outbox held no other row than this process's own pending hand-overs when
the batch inserted its rows (the same statement tells, see `SchemaSql.insert_outbox`):
hand-overs are sent first in first out, so a deal's events still leave in commit order.
Otherwise, and after any failure, the relay polls as above and sends by id. A polling relay of
another process may send a handed-over row too (it is committed and visible); that is a
duplicate with the same event id, which consumers absorb, never a reordering, because every
sender sends in id order and deletes a row only after its ack.

The relay also polls every `poll_interval_s`: rows committed by another process, or left by a
crashed one. Every few seconds it reports the outbox backlog and the age of its oldest row.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer

from shared import kafka_clients
from shared.backoff import Backoff, RetryPolicy, retry
from shared.crash import CrashPoints
from shared.failures import describe, is_broker_failure, is_transient, producer_state_lost
from shared.handover import Pending
from shared.health import Readiness
from shared.kafka_security import KafkaSecurity
from shared.mailbox import Mailbox, OutboxRow
from shared.messages import Outgoing
from shared.metrics import WorkerMetrics
from shared.tracing import trace_headers

log = structlog.stdlib.get_logger("salesflow.relay")

BACKLOG_EVERY_S = 2.0
PRODUCER_STOP_TIMEOUT_S = 10.0


def make_producer(
    bootstrap: str, client_id: str, security: KafkaSecurity | None = None
) -> AIOKafkaProducer:
    # aiokafka's defaults are acks=1 without idempotence: a leader crash could drop acked
    # events and a retry could duplicate or reorder them within the session.
    return kafka_clients.producer(
        bootstrap,
        security=security,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
        compression_type=None,
    )


@dataclass(frozen=True, slots=True)
class _HandOver:
    records: Sequence[Outgoing]
    ids: Sequence[int]


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        mailbox: Mailbox[Any],
        producer_factory: Callable[[], AIOKafkaProducer],
        metrics: WorkerMetrics,
        readiness: Readiness,
        batch_size: int,
        poll_interval_s: float,
        retry_policy: RetryPolicy,
        crash: CrashPoints | None = None,
    ) -> None:
        self._service = service
        self._mailbox = mailbox
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._metrics = metrics
        self._readiness = readiness
        self._batch_size = batch_size
        self._poll = poll_interval_s
        self._retry = retry_policy
        self._crash = crash or CrashPoints()
        self._wake = asyncio.Event()
        self._poll_due = True  # the first pass looks for rows a predecessor left
        self._handovers: deque[_HandOver] = deque()
        self._pending: set[int] = set()
        self._last_polled: frozenset[int] = frozenset()
        # Bumped when a failure empties the queue: a batch whose `alone` was judged against
        # pending ids of an earlier era is polled instead (those rows leave by polling).
        self._era = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._producer_started = False
        self._next_backlog = 0.0

    def wake(self) -> None:
        """Poll the outbox now (rows to send in id order)."""
        self._poll_due = True
        self._wake.set()

    def pending(self) -> Pending:
        return Pending(self._era, list(self._pending))

    def committed(
        self, records: Sequence[Outgoing], ids: Sequence[int], *, alone: bool, seen: Pending
    ) -> None:
        """Rows the worker just committed; see the module docstring for when they are sent
        from memory."""
        if alone and seen.era == self._era and len(ids) == len(records):
            self._handovers.append(_HandOver(records, ids))
            self._pending.update(ids)
            self._wake.set()
        else:
            self.wake()

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
        async def start() -> None:
            # aiokafka binds a client to the running loop, so it is built here, not in the factory.
            producer = self._producer_factory()
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer

        def waiting(error: BaseException, delay: float) -> None:
            self._readiness.set_broker(ok=False, detail=describe(error))
            log.warning("producer_start_retrying", error=describe(error), retry_in_s=delay)

        await retry(
            start,
            policy=self._retry,
            retryable=is_transient,
            on_retry=waiting,
            budget_s=math.inf,
        )
        self._producer_started = True
        self._readiness.set_broker(ok=True)

    async def _renew_producer(self, error: BaseException) -> None:
        """Close the producer whose sequence state the broker lost and start a new one."""
        old, self._producer, self._producer_started = self._producer, None, False
        log.warning("producer_renewed", reason=describe(error))
        if old is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.stop(), timeout=PRODUCER_STOP_TIMEOUT_S)
        await self._start_producer()

    async def _run(self) -> None:
        backoff = Backoff(self._retry)
        next_poll = 0.0
        while True:
            sent = 0
            try:
                while self._handovers:
                    await self._send_handover(self._handovers[0])
                    done = self._handovers.popleft()
                    self._pending.difference_update(done.ids)
                if self._poll_due or time.monotonic() >= next_poll:
                    self._poll_due = False
                    next_poll = time.monotonic() + self._poll
                    sent = await self.relay_once()
                await self._report_backlog()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the relay never dies: it retries and reports
                delay = backoff.next_delay()
                log.warning(
                    "relay_failed_retrying",
                    error_class=type(error).__name__,
                    error=describe(error),
                    transient=is_transient(error),
                    retry_in_s=delay,
                )
                if is_broker_failure(error):
                    self._readiness.set_broker(ok=False, detail=describe(error))
                else:
                    self._readiness.set_database(ok=False, detail=describe(error))
                # Handed-over rows are committed: polling sends them, in id order, with the rest.
                self._handovers.clear()
                self._pending.clear()
                self._era += 1
                self._poll_due = True
                if self._stopping:
                    return
                if producer_state_lost(error):
                    # Re-sends rows the broker may have appended already: the same event ids,
                    # which the consumers' inboxes drop, as after a crash past the ack.
                    await self._renew_producer(error)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            self._readiness.set_broker(ok=True)
            self._readiness.set_database(ok=True)
            # A poll shorter than the limit emptied the outbox as of its SELECT; rows committed
            # since then set the wake event, so the wait below returns at once for them. While
            # stopping, drain until a poll finds nothing.
            if sent >= self._batch_size or (sent and self._stopping):
                self._poll_due = True
                continue
            if self._handovers:
                continue
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=max(0.0, next_poll - time.monotonic())
                )
            self._wake.clear()

    async def _send_handover(self, handover: _HandOver) -> None:
        # A poll that ran while this batch committed may have sent (and deleted) its rows.
        todo = [
            (row_id, record)
            for row_id, record in zip(handover.ids, handover.records, strict=True)
            if row_id not in self._last_polled
        ]
        if not todo:
            return
        await self._publish([OutboxRow(row_id, record) for row_id, record in todo])
        self._crash.reached("relay_after_ack")
        await self._mailbox.delete([i for i, _ in todo])
        self._metrics.published.labels(self._service).inc(len(todo))

    async def relay_once(self) -> int:
        """Publish one batch of the oldest rows; 0 when idle or another relay is active."""
        async with self._mailbox.relay_pass(self._batch_size) as relay_pass:
            rows = relay_pass.rows
            if not rows:
                return 0
            self._last_polled = frozenset(row.id for row in rows)
            await self._publish(rows)
            self._crash.reached("relay_after_ack")
            await relay_pass.delete([row.id for row in rows])
        self._metrics.published.labels(self._service).inc(len(rows))
        return len(rows)

    async def _publish(self, rows: Sequence[OutboxRow]) -> None:
        """Send every row, then await every ack (one await for the batch, not one per row)."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("relay not started")
        # The cause's trace context leaves as W3C headers (shared.tracing); rows without one
        # (dead letters keep their original headers, ticks and untraced causes) leave as stored.
        deliveries = [
            await producer.send(
                row.record.topic,
                value=row.record.payload,
                key=row.record.key,
                headers=[*row.record.headers, *trace_headers(row.record.trace)]
                if row.record.trace
                else list(row.record.headers),
            )
            for row in rows
        ]
        await asyncio.gather(*deliveries)

    async def _report_backlog(self) -> None:
        now = time.monotonic()
        if now >= self._next_backlog:
            self._next_backlog = now + BACKLOG_EVERY_S
            count, age = await self._mailbox.backlog()
            self._metrics.outbox_backlog.labels(self._service).set(count)
            self._metrics.outbox_oldest_age.labels(self._service).set(age)
