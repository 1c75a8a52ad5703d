"""The harness's own checks: faults applied, deals complete, recovery measured from the heal, a
seed naming its schedule."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime

from chaos.checker import Result
from chaos.faults import Applied
from chaos.recovery import Bounds, Heals, Recovery, measure
from chaos.schedule import (
    CLUSTER_KINDS,
    KINDS,
    OVERLAP,
    PRESETS,
    Fault,
    build_schedule,
    expand,
)
from chaos.time_jump import candidate_ids, jump_target
from chaos.verdict import deals_complete, faults_applied, recovered, replicated


def _applied(ok: bool = True, recovery: list[Recovery] | None = None) -> Applied:
    fault = Fault(1, 20.0, "kill", "lead", {"restart_after_s": 1.0})
    return Applied(fault, 20.0, 21.0, ok=ok, services=("lead_svc",), recovery=recovery or [])


def test_a_fault_that_did_not_happen_fails_the_run() -> None:
    schedule = [_applied().fault, Fault(2, 60.0, "pg_restart", None, {"down_s": 3.0})]
    assert not faults_applied([_applied()], schedule).passed
    assert not faults_applied([_applied(ok=False)], schedule[:1]).passed
    assert faults_applied([_applied()], schedule[:1]).passed


def test_incomplete_deals_fail_the_run() -> None:
    assert not deals_complete({"deals": 10, "incomplete_deals": 1}).passed
    assert deals_complete({"deals": 10, "incomplete_deals": 0}).passed


def test_a_refused_command_of_the_load_fails_the_run() -> None:
    # the external-mode run whose workers were native: 2 826 ERP invoices refused (wrong_mode),
    # each deal then "ended" early, and the run passed
    refused = {"deals": 10, "incomplete_deals": 0, "driver_refusals": 3}
    assert not deals_complete(refused).passed
    assert deals_complete({**refused, "driver_refusals": 0}).passed


def test_recovery_is_measured_from_the_heal() -> None:
    bounds = Bounds(progress_s=10, throughput_s=20, ratio=0.8, window_s=5)
    stalled: Counter[int] = Counter(dict.fromkeys(range(0, 20), 10))
    never = measure("lead_svc", stalled, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert never.progress_s is None and not never.within(bounds)
    slow = Counter({**dict.fromkeys(range(0, 20), 10), **dict.fromkeys(range(45, 80), 10)})
    late = measure("lead_svc", slow, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert late.progress_s == 26.0 and not late.within(bounds)
    weak = Counter({**dict.fromkeys(range(0, 20), 10), **dict.fromkeys(range(20, 80), 5)})
    half = measure("lead_svc", weak, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert half.progress_s == 1.0 and half.throughput_s is None and half.best_ratio == 0.5
    good = Counter(dict.fromkeys(range(0, 80), 10))
    fine = measure("lead_svc", good, 10.0, heal_s=20.5, now_s=80.0, bounds=bounds)
    assert fine.within(bounds) and fine.throughput_s == 4.5
    result = recovered([_applied(recovery=[never, fine])], bounds)
    assert [v.split(":")[0] for v in result.violations] == ["#1 kill on lead (restart_after_s=1.0)"]


def test_a_seed_names_its_schedule() -> None:
    kinds = expand(["all"])
    one = build_schedule(42, 1800, kinds)
    assert one == build_schedule(42, 1800, kinds)
    assert one != build_schedule(43, 1800, kinds)
    assert set(kinds) - {OVERLAP} <= {f.kind for f in one}
    assert all(b.at_s > a.at_s for a, b in itertools.pairwise(one))
    assert set(expand(["ci"])) == set(PRESETS["ci"])
    # `all` is what either broker mode runs, with overlapping faults; the faults on one broker
    # of three are `cluster`
    assert OVERLAP in kinds
    assert set(KINDS) == set(kinds) - {OVERLAP} | CLUSTER_KINDS
    assert not set(kinds) & CLUSTER_KINDS
    assert set(expand(["cluster"])) == CLUSTER_KINDS


def test_broker_faults_are_scheduled_with_a_partition_and_no_worker() -> None:
    both = build_schedule(7, 1500, expand(["all", "cluster"]))
    broker = [f for f in both if f.kind in CLUSTER_KINDS]
    assert {f.kind for f in broker} == CLUSTER_KINDS
    assert all(f.stage is None and "partition_pick" in f.params for f in broker)
    assert all("down_s" in f.params for f in broker if f.kind != "follower_pause")


def test_results_report_their_violations() -> None:
    result = Result("x", "y", checked=3)
    result.fail("broken")
    assert not result.passed and result.summary()["samples"] == ["broken"]


def test_a_run_moves_time_past_every_tick_already_published() -> None:
    now = datetime(2026, 12, 2, 6, 17, tzinfo=UTC)
    first = jump_target(now, datetime(2026, 12, 2, 6, tzinfo=UTC))
    assert first == datetime(2027, 4, 1, 6, tzinfo=UTC)
    # a second run within the hour: the same tick would be dropped by every inbox as a duplicate
    assert jump_target(now, first) == datetime(2027, 4, 1, 7, tzinfo=UTC)
    assert jump_target(now, None) == first
    # a tick some inbox already holds (another Kafka beside the same PostgreSQL) is passed too
    seen = candidate_ids(first, 2)
    assert jump_target(now, None, seen) == datetime(2027, 4, 1, 8, tzinfo=UTC)


def test_a_cluster_run_fails_on_a_topic_not_replicated_as_production_runs() -> None:
    good = {"replicas": 3, "min_insync": 2}
    assert replicated({"a": good, "b": good}, ["a", "b"]).passed
    one_replica = replicated({"a": good, "b": {"replicas": 1, "min_insync": 2}}, ["a", "b"])
    assert not one_replica.passed
    assert one_replica.violations == ["b: 1 replicas, min.insync.replicas=2"]
    assert not replicated({"a": {"replicas": 3, "min_insync": 1}}, ["a"]).passed
    missing = replicated({"a": good}, ["a", "b"])
    assert missing.checked == 2
    assert missing.violations == ["b: not found on the cluster"]


async def test_faults_active_together_are_measured_from_the_later_heal() -> None:
    """Seed 20261301: a kafka_reset overlapping a 59 s stop_drain of order_svc healed first;
    measured from its own heal, order_svc (stopped on purpose) failed the 60 s bound."""
    heals = Heals()
    stop_drain = Fault(8, 140.0, "stop_drain", "order", {"stopped_s": 59.3})
    reset = Fault(9, 142.3, "kafka_reset", None, {"hold_s": 6.2}, overlaps=8)
    heals.started(stop_drain)
    heals.started(reset)
    heals.healed(reset, 150.0)
    waiting = asyncio.ensure_future(heals.measure_from(reset, 150.0))
    await asyncio.sleep(0)
    assert not waiting.done(), "the reset's recovery waits for the stop_drain's heal"
    heals.healed(stop_drain, 200.0)
    assert await waiting == 200.0
    assert await heals.measure_from(stop_drain, 200.0) == 200.0


async def test_a_fault_started_after_the_first_healed_does_not_hold_its_measure() -> None:
    heals = Heals()
    kill = Fault(3, 60.0, "kill", "lead", {"restart_after_s": 0.5})
    cut = Fault(4, 62.0, "pg_cut", None, {"hold_s": 8.0}, overlaps=3)
    heals.started(kill)
    heals.healed(kill, 61.0)
    assert await heals.measure_from(kill, 61.0) == 61.0
    heals.started(cut)
    heals.healed(cut, 70.0)
    assert await heals.measure_from(cut, 70.0) == 70.0
