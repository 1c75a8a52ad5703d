"""Talking to the real broker from tests: publish raw records, read outcome topics, measure lag."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.envelope import Envelope, encode, kafka_headers
from shared import kafka_clients
from shared.topic_partitions import every_partition, topic_partitions

RawHeaders = Sequence[tuple[str, bytes | None]]


@dataclass(frozen=True)
class RawRecord:
    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: RawHeaders = ()


def record_of(topic: str, envelope: Envelope[Any]) -> RawRecord:
    return RawRecord(topic, encode(envelope), envelope.deal_id.encode(), kafka_headers(envelope))


async def publish(bootstrap: str, records: Iterable[RawRecord]) -> None:
    producer = kafka_clients.producer(bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        deliveries = [
            await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
            for r in records
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


class TopicReader:
    """Reads topics from their end offsets at `start()`: only what is published afterwards."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._consumer: AIOKafkaConsumer | None = None
        self.records: list[ConsumerRecord[bytes, bytes]] = []

    async def start(self) -> TopicReader:
        consumer = kafka_clients.consumer(bootstrap=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        parts = await topic_partitions(self._bootstrap, self._topics)
        assert parts, f"topics {self._topics} have no partitions: were they created?"
        consumer.assign(parts)
        for tp, offset in (await consumer.end_offsets(parts)).items():
            consumer.seek(tp, offset)
        self._consumer = consumer
        return self

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def collect(
        self,
        until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        timeout_s: float = 60.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Read until `until(records so far)` holds or the timeout passes; returns all records."""
        assert self._consumer is not None
        deadline = time.monotonic() + timeout_s
        while not until(self.records) and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=250)
            for batch in batches.values():
                self.records.extend(batch)
        return self.records

    async def settle(self, quiet_s: float = 2.0) -> list[ConsumerRecord[bytes, bytes]]:
        """Keep reading until nothing new arrives for `quiet_s` (catches late duplicates)."""
        assert self._consumer is not None
        last = time.monotonic()
        while time.monotonic() - last < quiet_s:
            batches = await self._consumer.getmany(timeout_ms=250)
            for batch in batches.values():
                if batch:
                    self.records.extend(batch)
                    last = time.monotonic()
        return self.records


async def group_lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Records on `topics` that `group` has not committed past."""
    admin = kafka_clients.admin(bootstrap)
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        known = await every_partition(admin)
        parts = [TopicPartition(t, p) for t in topics for p in known.get(t, [])]
        # Assigned first: aiokafka then loads the partitions' leaders in one metadata request.
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(group, partitions=parts)
        return sum(
            end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
            for tp, end in ends.items()
        )
    finally:
        await consumer.stop()
        await admin.close()


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return None if value is None else value.decode("utf-8", "replace")
    return None
