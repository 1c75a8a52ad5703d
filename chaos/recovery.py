"""How fast the pipeline comes back after a fault heals, from the driver's event timeline.

The timeline counts, per second of the run and per service, the distinct events the service
published (as the driver first saw them). The baseline of a service is its mean rate over the
warm-up (after the pipeline filled, before the first fault). After a fault heals:

- progress resumed: the first second with an event from each affected service;
- throughput recovered: the end of the first window of `window_s` seconds, starting at or after
  the heal, whose rate is at least `ratio` x the baseline.

Both are measured from the heal, and each must stay within its bound. Of two faults active
together (`overlap`), each is measured from the later of their heals: a service the other fault
still holds down (a worker stopped, Kafka cut off) cannot recover before that one heals too.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaos.schedule import Fault

WINDOW_S = 5


@dataclass(frozen=True)
class Bounds:
    progress_s: float = 60.0
    throughput_s: float = 120.0
    ratio: float = 0.8
    window_s: int = WINDOW_S


@dataclass(frozen=True)
class Recovery:
    service: str
    baseline_per_s: float
    progress_s: float | None  # None: no event yet
    throughput_s: float | None  # None: not back to ratio x baseline yet
    best_ratio: float  # best window rate / baseline seen so far after the heal

    def within(self, bounds: Bounds) -> bool:
        return (
            self.progress_s is not None
            and self.progress_s <= bounds.progress_s
            and self.throughput_s is not None
            and self.throughput_s <= bounds.throughput_s
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "baseline_per_s": round(self.baseline_per_s, 2),
            "progress_s": None if self.progress_s is None else round(self.progress_s, 1),
            "throughput_s": None if self.throughput_s is None else round(self.throughput_s, 1),
            "best_ratio": round(self.best_ratio, 2),
        }


def baseline(counts: Counter[int], start_s: float, end_s: float) -> float:
    seconds = range(int(start_s), int(end_s))
    if not seconds:
        return 0.0
    return sum(counts.get(s, 0) for s in seconds) / len(seconds)


def measure(
    service: str,
    counts: Counter[int],
    base: float,
    heal_s: float,
    now_s: float,
    bounds: Bounds,
) -> Recovery:
    """Recovery of one service after a heal at `heal_s`, using whole seconds up to `now_s`."""
    first = int(heal_s)
    complete = int(now_s)  # seconds before this one are complete
    progress = next((s + 1 - heal_s for s in range(first, complete) if counts.get(s, 0) > 0), None)
    if progress is not None:
        progress = max(progress, 0.0)
    throughput = None
    best = 0.0
    for start in range(first, complete - bounds.window_s + 1):
        rate = (
            sum(counts.get(s, 0) for s in range(start, start + bounds.window_s)) / bounds.window_s
        )
        ratio = rate / base if base > 0 else 0.0
        best = max(best, ratio)
        if ratio >= bounds.ratio:
            throughput = start + bounds.window_s - heal_s
            break
    return Recovery(service, base, progress, throughput, best)


def settled(recoveries: Sequence[Recovery], heal_s: float, now_s: float, bounds: Bounds) -> bool:
    """Nothing more to wait for: every service recovered, or the bounds have passed."""
    if all(r.progress_s is not None and r.throughput_s is not None for r in recoveries):
        return True
    return now_s - heal_s > max(bounds.progress_s, bounds.throughput_s) + bounds.window_s


def measure_all(
    timeline: Mapping[str, Counter[int]],
    baselines: Mapping[str, float],
    services: Sequence[str],
    heal_s: float,
    now_s: float,
    bounds: Bounds,
) -> list[Recovery]:
    return [
        measure(s, timeline.get(s, Counter()), baselines.get(s, 0.0), heal_s, now_s, bounds)
        for s in services
    ]


class Heals:
    """When each started fault healed, for measuring recovery from the last heal of the faults
    active together (seed 20261301: a `kafka_reset` healed 51 s before the `stop_drain` of
    order_svc it overlapped, and order_svc's recovery counted from the reset's heal failed the
    60 s bound while the worker was still stopped on purpose)."""

    def __init__(self) -> None:
        self._faults: dict[int, Fault] = {}
        self._healed: dict[int, asyncio.Future[float]] = {}

    def started(self, fault: Fault) -> None:
        self._faults[fault.index] = fault
        self._healed[fault.index] = asyncio.get_running_loop().create_future()

    def healed(self, fault: Fault, at_s: float) -> None:
        if not self._healed[fault.index].done():
            self._healed[fault.index].set_result(at_s)

    async def measure_from(self, fault: Fault, healed_s: float) -> float:
        """`healed_s`, or the heal of a fault started together with this one that heals later
        (waited for). A fault that started after this one healed is not waited for."""
        partners = [
            index
            for index, other in self._faults.items()
            if index != fault.index and (index == fault.overlaps or other.overlaps == fault.index)
        ]
        return max([healed_s, *[await self._healed[index] for index in partners]])
