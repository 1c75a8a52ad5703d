"""`salesflow replay` moves a group back, never past records it has not read (review of issue
11, finding 10): the per-partition plan and what the command prints. Pure, no I/O."""

from __future__ import annotations

from aiokafka import TopicPartition

from salesflow.replay import Move, plan, summary

TP = TopicPartition("order.confirmed", 3)


def test_a_group_ahead_of_the_time_moves_back_to_it() -> None:
    moved = plan(TP, 120, 100, allow_forward=False)
    assert (moved.move, moved.after, moved.skipped) == (Move.BACK, 100, 0)
    assert moved.describe() == "order.confirmed:3 120 -> 100 (back)"


def test_a_group_at_the_time_stays() -> None:
    assert plan(TP, 100, 100, allow_forward=False).move is Move.UNCHANGED


def test_a_lagging_group_is_kept_where_it_is_unless_forward_is_allowed() -> None:
    kept = plan(TP, 40, 100, allow_forward=False)
    assert (kept.move, kept.after, kept.skipped) == (Move.KEPT, 40, 60)
    assert kept.describe() == (
        "order.confirmed:3 40 -> 40 (kept: moving to 100 would skip 60 unread; "
        "--allow-forward to do so)"
    )
    forward = plan(TP, 40, 100, allow_forward=True)
    assert (forward.move, forward.after) == (Move.FORWARD, 100)
    assert forward.describe() == "order.confirmed:3 40 -> 100 (forward: skipped 60 unread)"


def test_a_partition_the_group_never_committed_is_left_to_its_reset_policy() -> None:
    kept = plan(TP, None, 100, start=30, allow_forward=False)
    assert (kept.move, kept.after, kept.skipped) == (Move.KEPT, None, 70)
    assert "would skip up to 70 unread" in kept.describe()
    assert plan(TP, None, 100, start=30, allow_forward=True).after == 100
    # Unless nothing lies before the time: then it is set there, skipping nothing.
    at_start = plan(TP, None, 30, start=30, allow_forward=False)
    assert (at_start.move, at_start.after, at_start.skipped) == (Move.BACK, 30, 0)


def test_the_summary_counts_each_outcome() -> None:
    moved = [
        plan(TP, 120, 100, allow_forward=False),
        plan(TP, 40, 100, allow_forward=False),
        plan(TP, 10, 100, allow_forward=False),
    ]
    assert summary("erp-connector", moved, dry_run=True) == (
        "erp-connector: 3 partitions (1 back, 2 kept) (dry run: nothing committed)"
    )
