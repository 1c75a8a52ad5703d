"""A producer whose clock is hours off, on the real broker: its records are accepted on every
topic (the broker stamps them), and its ticks are refused when they run more than an hour ahead.

Regression test for a bug the chaos harness found (clock_skew, seed 1503): Kafka 4 refuses a
record stamped more than an hour ahead of the broker (log.message.timestamp.after.max.ms), and
quote_svc on a host 5.9 h ahead could publish nothing; its relay retried for ever and the
pipeline stalled behind it. The skew is given here as the records' own timestamps, the way a
skewed clock puts it there."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace

import pytest
from aiokafka.admin import NewTopic
from aiokafka.errors import InvalidTimestampError
from aiokafka.structs import TopicPartition

from contracts.topics import TopicKind, TopicSpec, topic
from shared import kafka_clients
from shared.settings import replication_factor_from_env
from shared.topics_admin import ensure_topics
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration

HOUR_MS = 3600 * 1000


def _copy(spec: TopicSpec) -> TopicSpec:
    return replace(spec, name=f"skew-{spec.name}-{uuid.uuid4().hex[:8]}", partitions=1)


async def _send(endpoints: Endpoints, name: str, timestamp_ms: int) -> int:
    """Publish one record stamped `timestamp_ms`; the offset it got."""
    producer = kafka_clients.producer(endpoints.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(name, b"{}", key=b"k", timestamp_ms=timestamp_ms)
        return int(sent.offset)
    finally:
        await producer.stop()


async def _timestamp(endpoints: Endpoints, name: str, offset: int) -> tuple[int, int]:
    """(timestamp type, timestamp) of the record at `offset`: 1 is the broker's append time."""
    consumer = kafka_clients.consumer(bootstrap=endpoints.kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(name, 0)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        record = await consumer.getone()
        return record.timestamp_type, record.timestamp
    finally:
        await consumer.stop()


async def test_records_of_a_producer_hours_ahead_are_stamped_by_the_broker(
    endpoints: Endpoints,
) -> None:
    declared = [_copy(topic(name)) for name in ("quote.issued", "quote_svc.dlq", "catalog.prices")]
    assert declared[2].compacted
    # the broker's default, as every topic had it before: a record three hours ahead is refused
    control = f"skew-default-{uuid.uuid4().hex[:8]}"
    await ensure_topics(
        endpoints.kafka, declared, replication_factor=replication_factor_from_env(os.environ)
    )
    admin = kafka_clients.admin(endpoints.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(control, 1, replication_factor_from_env(os.environ))])
        ahead = int(time.time() * 1000) + 3 * HOUR_MS
        with pytest.raises(InvalidTimestampError):
            await _send(endpoints, control, ahead)
        for spec in declared:
            offset = await _send(endpoints, spec.name, ahead)
            kind, stamped = await _timestamp(endpoints, spec.name, offset)
            assert kind == 1, spec.name  # LogAppendTime
            assert abs(stamped - time.time() * 1000) < 10 * 60 * 1000, spec.name
    finally:
        await admin.delete_topics([*(spec.name for spec in declared), control])
        await admin.close()


async def test_a_tick_more_than_an_hour_ahead_is_refused_a_late_one_is_not(
    endpoints: Endpoints,
) -> None:
    clock = _copy(topic("clock.ticks"))
    assert clock.kind is TopicKind.SCHEDULE
    await ensure_topics(
        endpoints.kafka, [clock], replication_factor=replication_factor_from_env(os.environ)
    )
    admin = kafka_clients.admin(endpoints.kafka)
    await admin.start()
    try:
        now_ms = int(time.time() * 1000)
        with pytest.raises(InvalidTimestampError):
            await _send(endpoints, clock.name, now_ms + 2 * HOUR_MS)
        offset = await _send(endpoints, clock.name, now_ms - 6 * HOUR_MS)
        assert await _timestamp(endpoints, clock.name, offset) == (0, now_ms - 6 * HOUR_MS)
        await _send(endpoints, clock.name, now_ms + 10 * 60 * 1000)
    finally:
        await admin.delete_topics([clock.name])
        await admin.close()
