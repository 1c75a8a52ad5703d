"""Kafka plumbing of the benchmark: its own topics, preloading, group state, and an observer.

The observer is deliberately cheap: it looks only at record keys (the deal id) and timestamps
arrivals; it never parses a body, so it costs the machine the same in the baseline and in the
stage run and does not flatter either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError

from bench.processes import cancel_and_wait
from contracts.topics import PARTITIONS
from shared import kafka_clients
from shared.topic_partitions import topic_partitions

BASELINE_IN = "bench.passthrough.in"
BASELINE_OUT = "bench.passthrough.out"
BASELINE_GROUP = "salesflow-bench-passthrough"
TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True, slots=True)
class Record:
    """A record to publish: what the stage or the baseline will read."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """For preloading input topics: durable and ordered like every producer of the project."""
    return kafka_clients.producer(
        bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )


async def ensure_bench_topics(bootstrap: str) -> None:
    admin = kafka_clients.admin(bootstrap, client_id="salesflow-bench")
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [t for t in (BASELINE_IN, BASELINE_OUT) if t not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(name=t, num_partitions=PARTITIONS, replication_factor=1) for t in missing]
            )
            for name, code, *_ in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"cannot create {name}: error code {code}")
    finally:
        await admin.close()


async def group_lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Records on `topics` the group has not committed yet."""
    consumer = kafka_clients.consumer(bootstrap=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await consumer.start()
        parts = await topic_partitions(bootstrap, topics)
        # Assigned first: aiokafka then loads the partitions' leaders in one metadata request.
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        lag = 0
        for tp in parts:
            committed = await consumer.committed(tp)
            lag += ends[tp] - (committed if committed is not None else 0)
        return lag
    finally:
        await consumer.stop()


async def commit_to_end(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Move a group we own (the baseline's) to the end of its topics: a clean start."""
    consumer = kafka_clients.consumer(bootstrap=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await consumer.start()
        parts = await topic_partitions(bootstrap, topics)
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


async def publish(bootstrap: str, topic: str, records: Iterable[Record]) -> float:
    """Publish every record and await every ack; returns the seconds it took."""
    started = time.monotonic()
    kafka = producer(bootstrap, "salesflow-bench-preload")
    try:
        await kafka.start()
        pending = [
            await kafka.send(topic, r.value, key=r.key, headers=list(r.headers)) for r in records
        ]
        await asyncio.gather(*pending)
    finally:
        await kafka.stop()
    return time.monotonic() - started


@dataclass
class KeyObserver:
    """Watches topics from their current end and timestamps the first arrival of each key that
    starts with `prefix`."""

    bootstrap: str
    topics: Sequence[str]
    prefix: bytes
    first_seen: dict[bytes, float] = field(default_factory=dict)
    seen_records: int = 0
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> KeyObserver:
        self._consumer = kafka_clients.consumer(
            bootstrap=self.bootstrap,
            enable_auto_commit=False,
            max_poll_records=5000,
            fetch_max_wait_ms=20,
        )
        await self._consumer.start()
        parts = await topic_partitions(self.bootstrap, self.topics)
        self._consumer.assign(parts)
        for tp, offset in (await self._consumer.end_offsets(parts)).items():
            self._consumer.seek(tp, offset)
        # Resolve the positions now, so nothing published from here on is missed.
        for tp in parts:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._consumer is not None
        prefix, first = self.prefix, self.first_seen
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                self.seen_records += len(records)
                for record in records:
                    key = record.key
                    if key is not None and key.startswith(prefix) and key not in first:
                        first[key] = now

    async def wait_for(self, count: int, timeout_s: float, idle_s: float = 30.0) -> bool:
        """Until `count` distinct keys arrived; False on timeout or `idle_s` without progress."""
        deadline = time.monotonic() + timeout_s
        last, last_change = len(self.first_seen), time.monotonic()
        while len(self.first_seen) < count:
            now = time.monotonic()
            if self._task is not None and self._task.done():
                self._task.result()
            if len(self.first_seen) != last:
                last, last_change = len(self.first_seen), now
            if now > deadline or now - last_change > idle_s:
                return False
            await asyncio.sleep(0.01)
        return True

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._consumer is not None:
            await self._consumer.stop()


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        parts = await topic_partitions(bootstrap, [topic])
        # Assigned first: aiokafka then loads the partitions' leaders in one metadata request.
        consumer.assign(parts)
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def skip_own_records(
    bootstrap: str,
    group: str,
    since: dict[TopicPartition, int],
    prefixes: tuple[bytes, ...],
) -> int:
    """Move `group` past the records published since `since`, if the group had read everything
    before them and every one of them is keyed by one of the benchmark's deal-id prefixes.

    The stage measurement leaves its `lead.qualified` outcomes for quote_svc, which is not
    running then; left there they would make the end-to-end phase start by creating tens of
    thousands of quotes. Anyone else's record in the range, or a group with live members (the
    commit is refused), leaves the group as it was. Returns the records skipped.
    """
    consumer = kafka_clients.consumer(bootstrap=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await consumer.start()
        parts = list(since)
        ends = await consumer.end_offsets(parts)
        for tp in parts:
            if (await consumer.committed(tp) or 0) < since[tp]:
                return 0  # someone else's records were already waiting for the group
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, since[tp])
        remaining = {tp for tp in parts if ends[tp] > since[tp]}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if not batches:
                return 0
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    if not (record.key or b"").startswith(prefixes):
                        return 0
                if _reached(records, ends[tp]):
                    remaining.discard(tp)
        await consumer.commit(dict(ends.items()))
        return sum(ends[tp] - since[tp] for tp in parts)
    except KafkaError:
        return 0
    finally:
        await consumer.stop()


def _reached(records: list[Any], end: int) -> bool:
    return bool(records) and records[-1].offset + 1 >= end
