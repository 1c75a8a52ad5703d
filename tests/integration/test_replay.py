"""`salesflow replay` on real Kafka and PostgreSQL: a worker's group moved back to a point in
time reads its topics again from there and applies nothing twice (its inbox drops what it
applied), while what arrived since is applied once; a running group is not moved."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from salesflow.replay import ReplayRefusedError, replay, topics_of
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
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
        assert any(m.after < (m.before or 0) for m in planned), planned  # it would move back
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
