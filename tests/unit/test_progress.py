"""Partition progress: lag per partition, and a partition stuck while records wait."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.health import Readiness
from shared.metrics import WorkerMetrics
from shared.progress import PartitionProgress

TP = TopicPartition("lead.captured", 3)
OTHER = TopicPartition("lead.commands", 0)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _watch() -> tuple[PartitionProgress, Readiness, WorkerMetrics, Clock]:
    readiness, metrics, clock = Readiness(), WorkerMetrics("lead_svc"), Clock()
    return PartitionProgress("lead_svc", metrics, readiness, 60.0, clock), readiness, metrics, clock


def _moving(readiness: Readiness) -> bool:
    return readiness.moving


def _gauge(metrics: WorkerMetrics, name: str, tp: TopicPartition) -> float | None:
    labels = {"service": "lead_svc", "topic": tp.topic, "partition": str(tp.partition)}
    return metrics.registry.get_sample_value(name, labels)


def test_a_partition_whose_position_does_not_move_while_records_wait_is_reported() -> None:
    watch, readiness, metrics, clock = _watch()
    assert watch.observe({TP: 10, OTHER: 5}, {TP: 12, OTHER: 5}) == []
    clock.t += 59
    assert watch.observe({TP: 10, OTHER: 5}, {TP: 13, OTHER: 5}) == []
    assert _moving(readiness)
    clock.t += 2
    assert watch.observe({TP: 10, OTHER: 5}, {TP: 13, OTHER: 5}) == [TP]
    assert not _moving(readiness) and not readiness.ready
    assert "lead.captured:3" in readiness.details["partitions"]
    assert _gauge(metrics, "salesflow_partition_stalled_seconds", TP) == 61
    assert _gauge(metrics, "salesflow_consumer_lag", TP) == 3
    assert _gauge(metrics, "salesflow_partition_stalled_seconds", OTHER) == 0


def test_a_moving_or_caught_up_partition_is_never_stalled() -> None:
    watch, readiness, _, clock = _watch()
    for step in range(10):
        clock.t += 30
        # Busy but moving on TP; idle and caught up on OTHER.
        assert watch.observe({TP: 10 + step, OTHER: 5}, {TP: 100, OTHER: 5}) == []
    assert _moving(readiness)


def test_a_stalled_partition_recovers_once_it_moves_or_is_revoked() -> None:
    watch, readiness, metrics, clock = _watch()
    watch.observe({TP: 10}, {TP: 20})
    clock.t += 120
    assert watch.observe({TP: 10}, {TP: 20}) == [TP]
    clock.t += 1
    assert watch.observe({TP: 11}, {TP: 20}) == []
    assert _moving(readiness)
    clock.t += 120
    assert watch.observe({TP: 11}, {TP: 20}) == [TP]
    assert watch.observe({}, {}) == [], "revoked: no longer ours to report"
    assert _moving(readiness)
    assert _gauge(metrics, "salesflow_consumer_lag", TP) == 0
