"""Retention and redrive on the real servers: topics carry their declared retention (and an
older topic is brought in line), and `salesflow dlq redrive` re-publishes exactly the dead
letters its filters pick, after the cause is fixed, each applied once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.admin import NewTopic

from contracts.envelope import make_envelope
from contracts.topics import ALL_TOPICS, DEAD_LETTER_RETENTION_MS, TopicSpec, topic
from salesflow.dead_letters import DeadLetterFilter, redrive
from shared import kafka_clients
from shared.topics_admin import apply_configs, topic_configs
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, header, publish, record_of
from tests.support.leads import UPSTREAM, captured, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration


async def test_every_topic_has_its_declared_retention(endpoints: Endpoints) -> None:
    found = await topic_configs(endpoints.kafka, ALL_TOPICS)
    for spec in ALL_TOPICS:
        declared = {k: found[spec.name][k] for k in spec.configs}
        assert declared == spec.configs, f"{spec.name}: run `salesflow topics create`"
    assert found["lead_svc.dlq"]["retention.ms"] == str(DEAD_LETTER_RETENTION_MS)


async def test_a_topic_created_without_them_gets_its_configs(endpoints: Endpoints) -> None:
    name = f"retention-test-{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(endpoints.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
        template = topic("lead_svc.dlq")
        spec = TopicSpec(
            name, (), template.key_rule, 1, False, template.kind, template.owner, (), 3_600_000
        )
        await wait_until(lambda: _described(endpoints, spec), 30, "the new topic described")
        assert await apply_configs(endpoints.kafka, [spec]) == [name]
        assert (await topic_configs(endpoints.kafka, [spec]))[name] == spec.configs
        assert await apply_configs(endpoints.kafka, [spec]) == [], "nothing left to change"
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def _described(endpoints: Endpoints, spec: TopicSpec) -> bool:
    return spec.name in await topic_configs(endpoints.kafka, [spec])


async def wait_until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def _large(lead_id: str) -> Any:
    lead = captured(lead_id)
    payload = lead.payload.model_copy(update={"notes": "call back " * 300})
    return make_envelope(
        payload,
        event_type="lead.captured",
        deal_id=lead.deal_id,
        producer=UPSTREAM,
        occurred_at=lead.occurred_at,
    )


async def test_redrive_sends_what_the_filters_pick_once_the_cause_is_fixed(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    first, second = _large(f"rd-{run}-1"), _large(f"rd-{run}-2")
    deals = {first.deal_id, second.deal_id, f"rd-{run}-junk"}
    since = datetime.now(UTC) - timedelta(seconds=1)
    dlq = await TopicReader(endpoints.kafka, ("lead_svc.dlq",)).start()
    try:
        # The cause: a worker configured for smaller records than upstream sends.
        async with lead_worker(endpoints, max_message_bytes=1024):
            await publish(
                endpoints.kafka,
                [
                    record_of("lead.captured", first),
                    record_of("lead.captured", second),
                    RawRecord("lead.captured", b"not json", f"rd-{run}-junk".encode()),
                ],
            )
            await dlq.collect(lambda rs: len([r for r in rs if _deal(r) in deals]) >= 3)
    finally:
        await dlq.stop()
    parked = Counter(header(r, "dlq.reason") for r in dlq.records if _deal(r) in deals)
    assert parked == {"oversized": 2, "not_json": 1}

    oversized = DeadLetterFilter(reasons=frozenset({"oversized"}), since=since)
    planned = await redrive(endpoints.kafka, "lead_svc", oversized, dry_run=True)
    assert {d.event_id for d in planned} == {str(first.event_id), str(second.event_id)}

    outcomes = await TopicReader(endpoints.kafka, ("lead.qualified", "lead.captured")).start()
    try:
        one = DeadLetterFilter(event_ids=frozenset({str(first.event_id)}))
        sent = await redrive(endpoints.kafka, "lead_svc", one)
        assert [d.event_id for d in sent] == [str(first.event_id)]
        async with lead_worker(endpoints):  # the cause fixed: the default record limit
            await outcomes.collect(lambda rs: _count(rs, "lead.qualified", deals) >= 1)
            # Now all of them: the first again (its inbox entry drops it), and the second.
            await redrive(endpoints.kafka, "lead_svc", oversized)
            await outcomes.collect(lambda rs: _count(rs, "lead.qualified", deals) >= 2)
            records = await outcomes.settle(3.0)
    finally:
        await outcomes.stop()
    resent = [r for r in records if r.topic == "lead.captured" and _deal(r) in deals]
    assert sorted(_deal(r) for r in resent) == sorted(
        [first.deal_id, first.deal_id, second.deal_id]
    ), "dry run sent nothing; the junk (another reason) was never sent"
    assert all(header(r, "dlq.reason") is None for r in resent), "sent without the dlq headers"
    assert all(header(r, "event_id") is not None for r in resent), "with the original headers"
    qualified = Counter(_deal(r) for r in records if r.topic == "lead.qualified")
    assert {d: qualified[d] for d in (first.deal_id, second.deal_id)} == {
        first.deal_id: 1,
        second.deal_id: 1,
    }


def _deal(record: Any) -> str:
    return str((record.key or b"").decode())


def _count(records: list[Any], topic_name: str, deals: set[str]) -> int:
    return sum(1 for r in records if r.topic == topic_name and _deal(r) in deals)
