"""`salesflow trace` reads the deal's murmur2 partition; `--everywhere` also finds what a
producer with another partitioner (kcat's default) put on another partition, and says so."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from contracts.envelope import encode, kafka_headers
from salesflow.tracing import trace_deal
from shared import kafka_clients
from tests.support.infra import Endpoints
from tests.support.kafka_probe import publish, record_of
from tests.support.leads import captured, new_run_id

pytestmark = pytest.mark.integration


async def test_a_record_on_another_partition_is_found_everywhere_and_marked(
    endpoints: Endpoints,
) -> None:
    deal = f"L-trace-{new_run_id()}"
    on_murmur2 = captured(deal)
    elsewhere = captured(deal, email=f"other.{new_run_id()}@example.com")
    partitions = list(range(6))
    right = DefaultPartitioner()(deal.encode(), partitions, partitions)
    wrong = (right + 1) % 6
    await publish(endpoints.kafka, [record_of("lead.captured", on_murmur2)])
    # as kcat's default partitioner (consistent_random) might have put it
    producer = kafka_clients.producer(endpoints.kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            "lead.captured",
            encode(elsewhere),
            key=deal.encode(),
            partition=wrong,
            headers=kafka_headers(elsewhere),
        )
    finally:
        await producer.stop()

    usual = await trace_deal(endpoints.kafka, deal)
    assert [str(on_murmur2.event_id) in line for line in usual] == [True]

    everything = await trace_deal(endpoints.kafka, deal, everywhere=True)
    assert len(everything) == 2
    (found_elsewhere,) = [line for line in everything if str(elsewhere.event_id) in line]
    assert f"[partition {wrong}, not murmur2's]" in found_elsewhere
    (found_right,) = [line for line in everything if str(on_murmur2.event_id) in line]
    assert "not murmur2's" not in found_right
