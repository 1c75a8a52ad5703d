"""A worker's business and flow metrics on the real servers: events it emits, the hop latency
of what it applied, and the depth of its dead-letter topic."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from contracts.topics import topic
from shared import kafka_clients
from shared.depth import dead_letter_depth_forever
from shared.metrics import WorkerMetrics
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration


def _samples(metrics: WorkerMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_a_worker_counts_what_it_emits_and_how_long_each_hop_took(
    endpoints: Endpoints,
) -> None:
    lead = captured(f"m-{new_run_id()}")
    reader = await TopicReader(endpoints.kafka, ("lead.qualified",)).start()
    try:
        async with lead_worker(endpoints) as worker:
            await publish(endpoints.kafka, [record_of("lead.captured", lead)])
            await reader.collect(lambda rs: any(r.key == lead.deal_id.encode() for r in rs))
            emitted = _samples(worker.metrics, "salesflow_events_emitted_total")
            hops = _samples(worker.metrics, "salesflow_hop_latency_seconds_count")
    finally:
        await reader.stop()
    qualified = (("event_type", "lead.qualified"), ("service", "lead_svc"))
    assert emitted[qualified] >= 1
    assert hops[(("service", "lead_svc"), ("topic", "lead.captured"))] >= 1


async def test_the_dead_letter_depth_follows_the_topic(endpoints: Endpoints) -> None:
    metrics = WorkerMetrics("lead_svc")
    consumer = kafka_clients.consumer(bootstrap=endpoints.kafka)
    await consumer.start()
    dlq = topic("lead_svc.dlq")
    sampler = asyncio.create_task(
        dead_letter_depth_forever(SimpleNamespace(consumer=consumer), dlq, metrics, "lead_svc", 0.2)
    )
    try:
        parts = [TopicPartition(dlq.name, p) for p in range(dlq.partitions)]
        ends, starts = await consumer.end_offsets(parts), await consumer.beginning_offsets(parts)
        before = sum(ends[tp] - starts[tp] for tp in parts)
        await _depth_becomes(metrics, before)
        await publish(endpoints.kafka, [RawRecord(dlq.name, b"parked", b"k-depth")])
        await _depth_becomes(metrics, before + 1)
    finally:
        sampler.cancel()
        await consumer.stop()


async def _depth_becomes(metrics: WorkerMetrics, expected: int) -> None:
    deadline = time.monotonic() + 20
    found = None
    while time.monotonic() < deadline:
        found = _samples(metrics, "salesflow_dead_letter_depth").get((("service", "lead_svc"),))
        if found == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"dead-letter depth {found}, expected {expected}")
