"""Is every assigned partition moving? Lag per partition, and partitions stuck with records
waiting.

A consumer can stop on one partition while the process looks healthy: a record that fails inside
the Kafka client's own parsing, a batch that keeps failing, a wedged fetch. Lag alone cannot tell
"busy" from "stuck"; a position that has not moved for `stall_after_s` while the high watermark
is ahead of it can. Such a partition turns readiness false (with the partition named) and shows
in `salesflow_partition_stalled_seconds`, which an alert can use; its lag is in
`salesflow_consumer_lag`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.health import Readiness
from shared.metrics import WorkerMetrics


@dataclass
class _Seen:
    position: int
    since: float


class PartitionProgress:
    def __init__(
        self,
        service: str,
        metrics: WorkerMetrics,
        readiness: Readiness,
        stall_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._metrics = metrics
        self._readiness = readiness
        self._stall_after_s = stall_after_s
        self._clock = clock
        self._seen: dict[TopicPartition, _Seen] = {}

    def observe(
        self, positions: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int | None]
    ) -> list[TopicPartition]:
        """Record one sample of the assigned partitions; returns the stalled ones."""
        now = self._clock()
        stalled: list[TopicPartition] = []
        for tp in [tp for tp in self._seen if tp not in positions]:  # revoked since
            del self._seen[tp]
            self._gauges(tp, lag=0, stalled_s=0.0)
        for tp, position in positions.items():
            seen = self._seen.get(tp)
            if seen is None or seen.position != position:
                seen = self._seen[tp] = _Seen(position, now)
            end = ends.get(tp)
            lag = max(0, end - position) if end is not None else 0
            waited = now - seen.since if lag else 0.0
            if lag and waited >= self._stall_after_s:
                stalled.append(tp)
            self._gauges(tp, lag=lag, stalled_s=waited)
        if stalled:
            names = ", ".join(f"{tp.topic}:{tp.partition}" for tp in sorted(stalled))
            self._readiness.set_moving(
                ok=False,
                detail=f"no progress for {self._stall_after_s:.0f}s with records waiting: {names}",
            )
        else:
            self._readiness.set_moving(ok=True)
        return stalled

    async def sample(self, consumer: AIOKafkaConsumer, timeout_s: float) -> list[TopicPartition]:
        """Read the consumer's positions and high watermarks, then `observe` them."""
        positions: dict[TopicPartition, int] = {}
        ends: dict[TopicPartition, int | None] = {}
        async with asyncio.timeout(timeout_s):
            for tp in consumer.assignment():
                positions[tp] = await consumer.position(tp)
                ends[tp] = consumer.highwater(tp)
        return self.observe(positions, ends)

    def _gauges(self, tp: TopicPartition, *, lag: int, stalled_s: float) -> None:
        labels = (self._service, tp.topic, str(tp.partition))
        self._metrics.consumer_lag.labels(*labels).set(lag)
        self._metrics.partition_stalled.labels(*labels).set(stalled_s)
