"""The benchmark's pure parts: the fit of a worker's CPU against its batches, and the targets
table every figure is judged by (bench/cpu_fit.py, bench/report.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.accepted_quotes import build_accepted_quotes
from bench.cpu_fit import fit_batch_cost, least_squares_2
from bench.report import TARGETS, meets, render, summary, target_text, verdicts
from contracts.envelope import decode
from contracts.money import sum_totals


def test_the_fit_recovers_a_fixed_cost_per_batch_and_a_cost_per_message() -> None:
    fixed, per_message = 0.004, 0.0003  # 4 ms per batch, 300 us per message
    points = [(b, 5000.0, fixed * b + per_message * 5000) for b in (250, 100, 34, 10)]
    result = fit_batch_cost(points, at_batch=500)
    assert result["fixed_ms_per_batch"] == pytest.approx(4.0)
    assert result["per_message_us"] == pytest.approx(300.0)
    assert result["cpu_per_message_us_at_batch"] == pytest.approx(308.0)
    assert result["r2"] == pytest.approx(1.0)
    assert (result["fixed_met"], result["per_message_met"]) == (False, False)


def test_the_fit_uses_runs_of_different_lengths_and_averages_noise_out() -> None:
    points = [
        (400, 4000, 0.32 + 0.2 + 0.01),
        (40, 4000, 0.032 + 0.2 - 0.01),
        (100, 10000, 0.08 + 0.5 + 0.01),
        (20, 10000, 0.016 + 0.5 - 0.01),
    ]
    fixed, per_message = least_squares_2(points) or (0.0, 0.0)
    assert fixed == pytest.approx(0.0008, abs=1e-4)
    assert per_message == pytest.approx(0.00005, abs=2e-6)
    result = fit_batch_cost(points)
    assert result["fixed_met"] is True
    assert result["per_message_met"] is True
    assert 0.9 < result["r2"] < 1.0


def test_one_batch_size_cannot_split_the_cost() -> None:
    # Batches proportional to messages in every run: fixed and per message are not separable.
    same_size = [(10.0, 5000.0, 2.0), (20.0, 10000.0, 4.1)]
    assert least_squares_2(same_size) is None
    assert least_squares_2([(10.0, 5000.0, 2.0)]) is None
    result = fit_batch_cost(same_size)
    assert result["fixed_ms_per_batch"] is None
    assert result["fixed_met"] is None
    # A run that measured nothing (a worker gone before its counters were read) is left out.
    assert fit_batch_cost([(0.0, 0.0, 0.0), (10.0, 5000.0, 2.0)])["points_used"] == 1


def test_every_target_of_the_issue_has_a_bound_and_a_direction() -> None:
    assert set(TARGETS) == {
        "lead_ratio",
        "order_ratio",
        "fixed_ms_per_batch",
        "per_message_us",
        "quarter_load_busy",
        "deals_per_s",
        "p99_half_load_ms",
        "p99_trickle_ms",
        "rss_mb",
        "rss_slope_mb_per_min",
    }
    assert meets("lead_ratio", 0.70) is True
    assert meets("lead_ratio", 0.69) is False
    assert meets("p99_trickle_ms", 100.0) is True
    assert meets("p99_trickle_ms", 100.1) is False
    assert meets("rss_mb", 150.0) is False  # "under 150 MB"
    assert meets("quarter_load_busy", None) is None
    assert target_text("deals_per_s") == ">= 1,500"
    assert target_text("quarter_load_busy") == "<= 0.50"
    assert target_text("fixed_ms_per_batch") == "<= 1"


def _spread(value: float) -> dict[str, Any]:
    return {"median": value, "min": value, "max": value, "runs": [value]}


def _level(rate: float, p99: float, machine: float, *, kept_up: bool = True) -> dict[str, Any]:
    run = {"deals_published": 30, "deals_completed": 30, "hops_ms": {}, "counts": {}}
    return {
        "offered_rate": rate,
        "deals_per_s": _spread(rate),
        "p50_ms": _spread(p99 / 3),
        "p95_ms": _spread(p99 / 2),
        "p99_ms": _spread(p99),
        "kept_up": [kept_up],
        "machine_cores": _spread(machine),
        "runs": [run],
    }


def _result() -> dict[str, Any]:
    stage = {
        "service": "lead_svc",
        "input": "lead.captured",
        "mean_message_bytes": 900,
        "runs": [],
        "baseline_msgs_per_s": _spread(20000.0),
        "stage_msgs_per_s": _spread(3000.0),
        "ratio": _spread(0.15),
        "stage_startup_s": _spread(2.0),
    }
    fit = {
        "service": "lead_svc",
        "points": [
            {"batch_max_records": 25, "batches": 160.0, "messages": 4000.0, "cpu_s": 2.0},
            {"batch_max_records": 500, "batches": 8.0, "messages": 4000.0, "cpu_s": 1.2},
        ],
        **fit_batch_cost([(160.0, 4000.0, 2.0), (8.0, 4000.0, 1.2)]),
    }
    memory = {"lead_svc-e2e": {"peak_mb": 104.0, "steady_mb": 103.0, "slope_mb_per_min": 0.2}}
    return {
        "finished_at": "2026-12-02T08:00:00+00:00",
        "command": "python -m bench --quick",
        "profile": {"name": "quick"},
        "machine": {"cpus": 2, "cpu_model": "x", "memory_gb": 8, "loadavg_at_start": [1, 1, 1]},
        "stage": {
            "messages": 4000,
            "stages": {"lead": stage, "order": {**stage, "service": "order_svc"}},
            "cpu_fit": fit,
        },
        "lifecycle": {
            "capacity": {
                "deals_per_s": _spread(400.0),
                "in_flight": 1000,
                "runs": [{"cpu_cores": {"machine": 1.97}, "counts": {"captured": 10}}],
            },
            "levels": {
                "quarter": _level(100.0, 900.0, 1.9),
                "half": _level(200.0, 450.0, 1.95),
                "near_max": _level(360.0, 3000.0, 1.98, kept_up=False),
                "trickle": _level(1.0, 80.0, 0.3),
            },
            "memory": memory,
        },
        "warnings": [],
    }


def test_the_verdicts_judge_every_figure_measured() -> None:
    result = _result()
    v = verdicts(result)
    assert set(v) == set(TARGETS)
    assert v["lead_ratio"]["met"] is False
    assert v["quarter_load_busy"]["value"] == pytest.approx(0.95)
    assert v["quarter_load_busy"]["met"] is False
    assert v["p99_half_load_ms"]["met"] is True
    assert v["p99_trickle_ms"]["met"] is True
    assert v["deals_per_s"]["met"] is False
    assert v["deals_per_s"]["sustained_near_max"] is None  # near max fell behind
    assert v["fixed_ms_per_batch"]["value"] == pytest.approx(0.8 / 152 * 1000, abs=0.001)
    assert v["rss_mb"]["met"] is True


def test_the_table_prints_each_target_with_its_verdict() -> None:
    result = _result()
    result["targets"] = verdicts(result)
    table = render(result)
    assert "order_svc started cold" in table
    assert "fixed CPU per batch, ms" in table
    assert "machine busy, share of its cores" in table
    assert "trickle: 1 deals/s offered" in table
    rows = summary(result["targets"])
    assert rows[-1] == "   met: 4 of 10 measured"
    assert all(label in table for label, _, _ in TARGETS.values())


def test_a_profile_without_a_figure_says_it_was_not_measured() -> None:
    result = _result()
    del result["lifecycle"]["levels"]["trickle"], result["lifecycle"]["levels"]["quarter"]
    result["targets"] = verdicts(result)
    assert "p99_trickle_ms" not in result["targets"]
    assert any("not measured" in row for row in summary(result["targets"]))


def test_the_second_stage_gets_accepted_quotes_that_add_up() -> None:
    records = build_accepted_quotes(20, seed=3, run_id="t1")
    assert len({r.key for r in records}) == 20
    for record in records:
        quote = decode(record.value).payload
        assert quote.lead_id == record.key.decode()
        totals = sum_totals((line.amounts(quote.currency) for line in quote.lines), quote.currency)
        assert totals.grand_total == quote.totals.grand_total
    again = build_accepted_quotes(20, seed=3, run_id="t1")
    assert [decode(r.value).payload.lines for r in again] == [
        decode(r.value).payload.lines for r in records
    ]  # drawn from the seed
