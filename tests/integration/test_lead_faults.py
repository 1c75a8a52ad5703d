"""lead_svc as a real process under faults: SIGKILL at each crash point and at a random moment,
SIGTERM mid-stream, PostgreSQL stopped under load. After each: every lead has exactly one outcome
(one distinct event id per deal on the outcome topics), none is lost, nothing dead-lettered."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from contracts.envelope import decode
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, group_lag, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.integration

OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.rejected", "lead_svc.dlq")
INPUTS = ("lead.captured", "lead.commands")


def _effects(records: list[Any], deals: set[str]) -> dict[str, set[str]]:
    """Distinct outcome event ids per deal (a re-sent record repeats its event id)."""
    found: dict[str, set[str]] = defaultdict(set)
    for record in records:
        deal = record.key.decode() if record.key else ""
        if deal not in deals:
            continue
        if record.topic.endswith(".dlq"):
            found[deal].add(f"dlq@{record.offset}")
        else:
            found[deal].add(str(decode(record.value).event_id))
    return found


def _covered(deals: set[str]) -> Any:
    return lambda records: len(_effects(records, deals)) >= len(deals)


def _leads(count: int) -> list[Any]:
    run = new_run_id()
    return [captured(f"k-{run}-{i:04d}") for i in range(count)]


async def _assert_exactly_once(
    endpoints: Endpoints, reader: TopicReader, deals: set[str], timeout_s: float = 90.0
) -> list[Any]:
    records = await reader.collect(_covered(deals), timeout_s=timeout_s)
    records = await reader.settle(2.0)
    effects = _effects(records, deals)
    missing = deals - effects.keys()
    doubled = {d: ids for d, ids in effects.items() if len(ids) != 1}
    assert not missing, f"{len(missing)} leads without an outcome, e.g. {sorted(missing)[:3]}"
    assert not doubled, (
        f"{len(doubled)} leads with more than one effect: {list(doubled.items())[:2]}"
    )
    dead = [r for r in records if r.topic.endswith(".dlq") and r.key.decode() in deals]
    assert dead == [], "good leads were dead-lettered"
    assert await group_lag(endpoints.kafka, "lead_svc", INPUTS) == 0
    return records


@pytest.mark.parametrize(
    ("point", "after"),
    [("in_transaction", 3), ("after_db_commit", 3), ("relay_after_ack", 2)],
)
async def test_sigkill_at_a_crash_point_then_restart_loses_and_doubles_nothing(
    endpoints: Endpoints, tmp_path: Path, point: str, after: int
) -> None:
    leads = _leads(400)
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    crashing = WorkerProcess(
        "lead",
        endpoints,
        tmp_path / "crashing.log",
        SALESFLOW_CRASH_POINT=point,
        SALESFLOW_CRASH_AFTER=str(after),
        SALESFLOW_BATCH_MAX_RECORDS="50",
    ).start()
    survivor: WorkerProcess | None = None
    try:
        await crashing.wait_ready()
        await publish(endpoints.kafka, [record_of("lead.captured", e) for e in leads])
        code = await crashing.wait_exit(timeout_s=60)
        assert code == -9, f"expected SIGKILL at {point}, got {code}: {crashing.tail()}"
        survivor = WorkerProcess("lead", endpoints, tmp_path / "survivor.log").start()
        await survivor.wait_ready()
        records = await _assert_exactly_once(endpoints, reader, deals)
        if point == "after_db_commit":
            # The batch committed before the kill is delivered again: the inbox must drop it.
            assert survivor.metric("salesflow_duplicates_dropped_total") > 0
        if point == "relay_after_ack":
            # Rows acked by Kafka but not deleted are sent again: same event ids, one effect.
            copies = [r for r in records if r.key and r.key.decode() in deals]
            assert len(copies) > len(deals), "the crash did not re-send anything"
    finally:
        crashing.kill()
        if survivor is not None:
            assert survivor.terminate() == 0, survivor.tail()
        await reader.stop()


async def test_sigkill_at_a_random_moment_mid_stream(endpoints: Endpoints, tmp_path: Path) -> None:
    rng = random.Random(20261127)
    leads = _leads(4000)
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    first = WorkerProcess(
        "lead", endpoints, tmp_path / "first.log", SALESFLOW_BATCH_MAX_RECORDS="50"
    ).start()
    second: WorkerProcess | None = None
    try:
        await first.wait_ready()
        await publish(endpoints.kafka, [record_of("lead.captured", e) for e in leads])
        await reader.collect(lambda rs: len(_effects(rs, deals)) >= 200, timeout_s=60)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        first.kill()
        done_before_kill = len(_effects(reader.records, deals))
        assert done_before_kill < len(deals), "the kill came too late to interrupt anything"
        second = WorkerProcess("lead", endpoints, tmp_path / "second.log").start()
        await second.wait_ready()
        await _assert_exactly_once(endpoints, reader, deals)
    finally:
        first.kill()
        if second is not None:
            assert second.terminate() == 0, second.tail()
        await reader.stop()


async def test_sigterm_finishes_the_batch_drains_the_outbox_and_exits_cleanly(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    leads = _leads(1000)
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    first = WorkerProcess(
        "lead", endpoints, tmp_path / "first.log", SALESFLOW_BATCH_MAX_RECORDS="50"
    ).start()
    second: WorkerProcess | None = None
    try:
        await first.wait_ready()
        await publish(endpoints.kafka, [record_of("lead.captured", e) for e in leads])
        await reader.collect(lambda rs: len(_effects(rs, deals)) >= 100, timeout_s=60)
        assert first.terminate(timeout_s=30) == 0, first.tail()
        second = WorkerProcess("lead", endpoints, tmp_path / "second.log").start()
        await second.wait_ready()
        await _assert_exactly_once(endpoints, reader, deals)
        # A clean stop commits what it applied: nothing is delivered twice to the successor.
        assert second.metric("salesflow_duplicates_dropped_total") == 0
    finally:
        first.kill()
        if second is not None:
            assert second.terminate() == 0, second.tail()
        await reader.stop()


async def test_postgres_down_under_load_parks_nothing_and_the_worker_resumes(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    control = endpoints.require_control()
    leads = _leads(1200)
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    worker = WorkerProcess(
        "lead", endpoints, tmp_path / "worker.log", SALESFLOW_BATCH_MAX_RECORDS="50"
    ).start()
    try:
        await worker.wait_ready()

        async def steady_load() -> None:
            for start in range(0, len(leads), 50):
                chunk = leads[start : start + 50]
                await publish(endpoints.kafka, [record_of("lead.captured", e) for e in chunk])
                await asyncio.sleep(0.1)

        load = asyncio.create_task(steady_load())
        await reader.collect(lambda rs: len(_effects(rs, deals)) >= 100, timeout_s=60)
        control.postgres_stop_immediate()
        try:
            await asyncio.sleep(3.0)
            status, body = worker.get("/readyz")
            assert status == 503, body
            assert b'"database":false' in body
            stalled = len(_effects(await reader.settle(1.0), deals))
            await asyncio.sleep(2.0)
            assert len(_effects(await reader.settle(0.5), deals)) == stalled, "progress without DB?"
        finally:
            control.postgres_start()
        await load
        await _assert_exactly_once(endpoints, reader, deals, timeout_s=120)
        await worker.wait_ready(timeout_s=30)
        assert worker.metric("salesflow_transient_errors_total") > 0
        assert worker.metric("salesflow_messages_dead_lettered_total") == 0
    finally:
        assert worker.terminate() == 0, worker.tail()
        await reader.stop()
