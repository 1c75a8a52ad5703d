"""Records a hostile or broken client writes that the Kafka client library itself chokes on, or
that would lose their deal's order, on the real broker: each is dead-lettered with its bytes and
the partition moves on."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from contracts.envelope import encode, kafka_headers
from contracts.topics import PARTITIONS
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, group_lag, header
from tests.support.leads import captured, new_run_id
from tests.support.raw_produce import batch, produce_batch
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.rejected", "lead_svc.dlq")


async def test_a_header_name_that_is_not_utf8_and_a_keyless_record_are_dead_lettered(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    first, named, keyless, last = (captured(f"hn-{run}-{i}") for i in range(4))
    key = first.deal_id.encode()
    partition = DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS)))
    data = batch(
        [
            (key, encode(first), kafka_headers(first)),
            # What `kcat -H $'\xff\xfe=x'` writes: aiokafka fails inside the poll on it.
            (named.deal_id.encode(), encode(named), [(b"\xff\xfe", b"x"), *kafka_headers(named)]),
            (None, encode(keyless), kafka_headers(keyless)),
            (last.deal_id.encode(), encode(last), kafka_headers(last)),
        ]
    )
    deals = {e.deal_id for e in (first, named, keyless, last)}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with lead_worker(endpoints):
            await produce_batch(endpoints.kafka, TopicPartition("lead.captured", partition), data)

            def done(records: list[Any]) -> bool:
                return len({r.value for r in records if _deal(r) in deals}) >= 4

            records = await reader.collect(done, timeout_s=60)
            lag = await group_lag(endpoints.kafka, "lead_svc", ("lead.captured",))
    finally:
        await reader.stop()
    mine = [r for r in records if _deal(r) in deals]
    outcomes = Counter((r.topic, header(r, "dlq.reason")) for r in mine)
    assert outcomes == {
        ("lead.qualified", None): 2,
        ("lead_svc.dlq", "bad_header"): 1,
        ("lead_svc.dlq", "key_mismatch"): 1,
    }
    parked = next(r for r in mine if header(r, "dlq.reason") == "bad_header")
    assert parked.value == encode(named), "the record's bytes, untouched"
    assert parked.key == named.deal_id.encode()
    assert header(parked, "\\xff\\xfe") == "x", "the name is kept, written out"
    assert header(parked, "dlq.source_partition") == str(partition)
    assert lag == 0, "the partition moved on past both"


def _deal(record: Any) -> str:
    if record.key:
        return str(record.key.decode())
    return str(record.value.decode("utf-8", "replace")).split('"deal_id":"', 1)[-1].split('"')[0]
