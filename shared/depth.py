"""How many records wait on a service's dead-letter topic, for `salesflow_dead_letter_depth`.

Nobody consumes a dead-letter topic (a person redrives from it), so its depth is what the
broker keeps: end minus start offsets over its partitions. Read with the worker's own consumer
(offsets only, no assignment), every `every_s`; an alert on its growth tells that new poison
arrived, whichever process of the service parked it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka import TopicPartition

from contracts.topics import TopicSpec
from shared.metrics import WorkerMetrics

EVERY_S = 15.0


async def dead_letter_depth_forever(
    subscriber: Any,
    topic: TopicSpec,
    metrics: WorkerMetrics,
    service: str,
    every_s: float = EVERY_S,
) -> None:
    parts = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    gauge = metrics.dead_letter_depth.labels(service)
    while True:
        consumer = subscriber.consumer
        if consumer is not None:
            # A probe: an unreachable broker shows elsewhere (readiness); try next round.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(every_s):
                    ends = await consumer.end_offsets(parts)
                    starts = await consumer.beginning_offsets(parts)
                gauge.set(sum(ends[tp] - starts.get(tp, 0) for tp in parts))
        await asyncio.sleep(every_s)
