"""The campaign of long seeded runs: its plan covers what the reliability issue asks of it, each
entry is a run `python -m chaos` accepts, and a report becomes the row RELIABILITY.md records."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.campaign import PLAN, main, row
from chaos.schedule import CLUSTER_KINDS, KINDS, OVERLAP, build_schedule, expand, minimum_duration


def test_the_plan_runs_every_fault_kind_in_both_broker_modes_for_five_minutes_or_more() -> None:
    assert len({p.seed for p in PLAN}) == len(PLAN), "a seed names one run"
    assert all(p.duration_s >= 300 for p in PLAN)
    kinds_by_mode: dict[int, set[str]] = {1: set(), 3: set()}
    for p in PLAN:
        kinds_by_mode[p.brokers] |= set(expand(p.scenarios.split(",")))
    assert kinds_by_mode[1] == set(KINDS) - CLUSTER_KINDS | {OVERLAP}
    assert kinds_by_mode[3] >= CLUSTER_KINDS
    assert {p.invoice_mode for p in PLAN if p.brokers == 1} == {"native", "external"}
    assert {p.invoice_mode for p in PLAN if p.brokers == 3} == {"native", "external"}


@pytest.mark.parametrize("planned", PLAN, ids=lambda p: str(p.seed))
def test_each_planned_run_fits_every_kind_it_asks_for(planned: Any) -> None:
    kinds = expand(planned.scenarios.split(","))
    window = planned.recovery_window_s
    assert planned.duration_s >= minimum_duration(kinds, warmup_s=20, recovery_window_s=window)
    schedule = build_schedule(
        planned.seed, planned.duration_s, kinds, warmup_s=20, recovery_window_s=window
    )
    assert set(kinds) - {OVERLAP} <= {f.kind for f in schedule}


def test_only_refuses_a_seed_outside_the_plan() -> None:
    assert main(["run", "--only", "1"]) == 2


def _report(passed: bool = True) -> dict[str, Any]:
    recovery = [{"service": "lead_svc", "progress_s": 1.3, "throughput_s": 4.5}]
    return {
        "passed": passed,
        "seed": 20261402,
        "duration_s": 480.0,
        "rate_per_s": 10.0,
        "brokers": 3,
        "invoice_mode": "external",
        "scenarios": ["leader_kill", "kafka_cut"],
        "wall_seconds": 612.4,
        "faults": [
            {"kind": "leader_kill", "ok": True, "recovery": recovery},
            {"kind": "leader_kill", "ok": True, "recovery": recovery},
            {"kind": "kafka_cut", "ok": passed, "recovery": []},
            {"kind": "duplicates", "ok": True, "recovery": []},
        ],
        "recovery_by_kind": {
            "leader_kill": {"faults": 2, "progress_s_max": 1.3, "throughput_s_max": 4.5},
            "kafka_cut": {"faults": 1, "progress_s_max": None, "throughput_s_max": None},
            "duplicates": {"faults": 1, "progress_s_max": 0.0, "throughput_s_max": 0.0},
        },
        "invariants": [
            {"name": "effects_once", "passed": True, "violations": 0},
            {"name": "deals_complete", "passed": passed, "violations": 0 if passed else 3},
        ],
        "facts": {
            "deals": 4812,
            "records_read": 66012,
            "load_seconds": 501.2,
            "counters": {"salesflow_duplicates_dropped_total": 1234.0},
            "overlaps": [{"overlapped": True}, {"overlapped": False}],
        },
    }


def test_a_report_becomes_the_row_reliability_md_records() -> None:
    cells = [c.strip() for c in row(_report()).strip("|").split("|")]
    assert cells == [
        "20261402",
        "cluster of 3, external, 10/s",
        "leader_kill,kafka_cut",
        "480 s / 501 s, 612 s",
        "duplicates 1, kafka_cut 1, leader_kill 2; 1 overlapping",
        "4 812",
        "66 012",
        "1 234",
        "kafka_cut never / never; leader_kill 1.3 / 4.5",
        "2 checked, 0 violations",
        "**PASS**",
    ]


def test_a_failed_run_names_what_failed() -> None:
    cells = [c.strip() for c in row(_report(passed=False)).strip("|").split("|")]
    assert "(not effective: kafka_cut)" in cells[4]
    assert cells[9] == "2 checked, 3 violations"
    assert cells[10] == "**FAIL** (deals_complete)"
