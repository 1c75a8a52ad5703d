"""`salesflow replay` on real Kafka and PostgreSQL: a worker's group moved back to a point in
time reads its topics again from there and applies nothing twice (its inbox drops what it
applied), while what arrived since is applied once; a running group is not moved; a lagging
group is not moved forward past records it has not read, unless allowed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition

from salesflow.replay import Move, ReplayRefusedError, replay, topics_of
from shared import kafka_clients
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.opened", "lead.rejected")


async def test_replaying_from_a_timestamp_applies_nothing_twice(endpoints: Endpoints) -> None:
    run = new_run_id()
    before = [captured(f"R{run}-a{i}", company=f"Replay {run} {i}") for i in range(20)]
    after = [captured(f"R{run}-b{i}", company=f"Later {run} {i}") for i in range(5)]
    since = datetime.now(UTC) - timedelta(seconds=1)
    prefix = f"R{run}-".encode()
    group, topics = "lead_svc", topics_of("lead_svc", ())

    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with lead_worker(endpoints):
            await publish(endpoints.kafka, [record_of("lead.captured", e) for e in before])
            await reader.collect(lambda rs: _ours(rs, prefix) >= len(before))
            with pytest.raises(ReplayRefusedError, match="stop its consumers"):
                await replay(endpoints.kafka, group, topics, since)

        planned = await replay(endpoints.kafka, group, topics, since, dry_run=True)
        assert any(m.move is Move.BACK for m in planned), planned  # it would move back
        moved = await replay(endpoints.kafka, group, topics, since)
        assert [(m.partition, m.after) for m in moved] == [(m.partition, m.after) for m in planned]
        await publish(endpoints.kafka, [record_of("lead.captured", e) for e in after])

        async with lead_worker(endpoints) as worker:
            total = len(before) + len(after)
            await reader.collect(lambda rs: _ours(rs, prefix) >= total)
            records = await reader.settle(3.0)
            assert worker.readiness.assigned
    finally:
        await reader.stop()

    outcomes = Counter(r.key for r in records if r.key and r.key.startswith(prefix))
    assert len(outcomes) == len(before) + len(after)
    assert set(outcomes.values()) == {1}, outcomes.most_common(3)  # nothing applied twice
    assert not [r for r in records if r.topic == "lead.rejected" and r.key.startswith(prefix)]


def _ours(records: list[object], prefix: bytes) -> int:
    return sum(1 for r in records if (getattr(r, "key", None) or b"").startswith(prefix))


async def test_a_lagging_group_is_not_skipped_forward(endpoints: Endpoints) -> None:
    """A connector that stopped at some point, replayed `--since` a later time: on the
    partitions where it has records to read before that time it stays where it is (moving it
    would skip them); --allow-forward moves it, and says how many it skipped."""
    run = new_run_id()
    group, topic = f"lagging-connector-{run}", "lead.opened"
    parts = [TopicPartition(topic, n) for n in range(6)]
    # The connector read everything there was, and committed it.
    consumer = kafka_clients.consumer(
        bootstrap=endpoints.kafka, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(parts)
        read_up_to = await consumer.end_offsets(parts)
        await consumer.commit(read_up_to)
    finally:
        await consumer.stop()
    # Then it stopped; records arrived that it never read; later an operator replays it from
    # a time after them.
    unread = [RawRecord(topic, b"{}", f"lag-{run}-{i}".encode()) for i in range(24)]
    await publish(endpoints.kafka, unread)
    await asyncio.sleep(1.1)
    since = datetime.now(UTC)

    kept = await replay(endpoints.kafka, group, [topic], since)
    by_move = Counter(m.move for m in kept)
    assert by_move[Move.KEPT] >= 1, kept
    assert set(by_move) <= {Move.KEPT, Move.UNCHANGED}, kept
    assert sum(m.skipped for m in kept) == len(unread)
    assert await _committed(endpoints, group, parts) == read_up_to  # nothing moved forward

    forward = await replay(endpoints.kafka, group, [topic], since, allow_forward=True)
    assert {m.partition: m.move for m in forward if m.move is Move.FORWARD} == {
        m.partition: Move.FORWARD for m in kept if m.move is Move.KEPT
    }
    assert await _committed(endpoints, group, parts) == {m.partition: m.target for m in forward}


async def _committed(
    endpoints: Endpoints, group: str, parts: list[TopicPartition]
) -> dict[TopicPartition, int | None]:
    consumer = kafka_clients.consumer(
        bootstrap=endpoints.kafka, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) for tp in parts}
    finally:
        await consumer.stop()
