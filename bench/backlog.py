"""Consumer-group backlogs: what a worker group has not committed yet on its input topics.

The benchmark shares the brokers' topics and the workers' consumer groups with everyone else
who uses the same Kafka (tests, demos). Records other people published while no worker of a
group ran would be processed inside a measurement and inflate it, so each phase first lets its
workers drain such a backlog and reports its size; between runs it waits for every group to be
caught up, so a run starts with an empty pipeline.
"""

from __future__ import annotations

import asyncio
import time

from bench import kafka_io
from contracts.topics import consumed_by


def inputs(service: str) -> tuple[str, ...]:
    """The topics a service's worker consumes (the topic map's readers)."""
    return tuple(spec.name for spec in consumed_by(service))


async def lag(bootstrap: str, services: tuple[str, ...]) -> dict[str, int]:
    return {s: await kafka_io.group_lag(bootstrap, s, inputs(s)) for s in services}


async def settle(
    bootstrap: str, services: tuple[str, ...], timeout_s: float, *, poll_s: float = 0.5
) -> dict[str, int]:
    """Wait until every group has caught up (or `timeout_s`); returns the lag at the start."""
    first = await lag(bootstrap, services)
    current = first
    deadline = time.monotonic() + timeout_s
    while any(current.values()) and time.monotonic() < deadline:
        await asyncio.sleep(poll_s)
        current = await lag(bootstrap, services)
    return first
