"""The summary of py-spy's collapsed stacks that `python -m bench --profile` reports."""

from __future__ import annotations

from bench.profiling import headline, summarise

STACKS = [
    "run (asyncio/runners.py:190);Runner.run (asyncio/runners.py:118) 50",
    "main (w.py:1);handle (shared/runtime.py:10);decide (services/x/domain.py:5) 30",
    "main (w.py:1);handle (shared/runtime.py:12);encode (contracts/envelope.py:7) 10",
    "main (w.py:1);handle (shared/runtime.py:10) 10",
    "not a stack line",
]


def test_idle_loop_frames_are_left_out_and_shares_are_of_busy_samples() -> None:
    summary = summarise(STACKS)
    assert summary["samples"] == 100
    assert summary["busy_samples"] == 50
    own = {f["function"]: f["share"] for f in summary["self"]}
    assert own == {
        "decide (services/x/domain.py)": 0.6,
        "encode (contracts/envelope.py)": 0.2,
        "handle (shared/runtime.py)": 0.2,
    }
    total = {f["function"]: f["share"] for f in summary["total"]}
    # line numbers are dropped, so one function's lines count once per stack; only salesflow's
    # own functions (services/, shared/, contracts/) are in the totals
    assert total["handle (shared/runtime.py)"] == 1.0
    assert total["decide (services/x/domain.py)"] == 0.6
    assert "main (w.py)" not in total


def test_the_headline_names_the_top_functions_or_why_there_is_none() -> None:
    assert headline(summarise(STACKS), top=1) == "decide (services/x/domain.py) 60%"
    assert headline({"error": "permission denied"}) == "not sampled (permission denied)"
