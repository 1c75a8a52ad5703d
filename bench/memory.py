"""Resident memory of the worker processes over a run, from /proc/<pid>/status.

Peak is the kernel's own high-water mark (VmHWM), so a spike between two samples still counts.
Steady is the median RSS over the second half of the samples; "flat" is judged on the samples
after a warm-up (caches, pools and pydantic's lazily built validators fill in the first
minute): the least-squares slope in MB per minute and the growth from the first to the last
quarter of that window.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.processes import Child, cancel_and_wait
from bench.stats import slope_per_minute


@dataclass
class MemorySeries:
    name: str
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, RSS KiB)
    peak_kb: int = 0

    def summary(self, warmup_s: float) -> dict[str, Any]:
        if not self.samples:
            return {"samples": 0}
        rss = [kb for _, kb in self.samples]
        half = rss[len(rss) // 2 :]
        after = [(t, kb / 1024) for t, kb in self.samples if t >= warmup_s] or [
            (t, kb / 1024) for t, kb in self.samples
        ]
        quarter = max(1, len(after) // 4)
        first_q = statistics.median(mb for _, mb in after[:quarter])
        last_q = statistics.median(mb for _, mb in after[-quarter:])
        return {
            "samples": len(rss),
            "seconds": round(self.samples[-1][0], 1),
            "peak_mb": round(self.peak_kb / 1024, 1),
            "steady_mb": round(statistics.median(half) / 1024, 1),
            "start_mb": round(rss[0] / 1024, 1),
            "end_mb": round(rss[-1] / 1024, 1),
            "slope_mb_per_min": round(slope_per_minute(after), 3),
            "growth_mb_after_warmup": round(last_q - first_q, 1),
            "warmup_s": warmup_s,
        }


class MemorySampler:
    """Samples every child's RSS every `interval_s` until stopped."""

    def __init__(self, children: Sequence[Child], interval_s: float = 1.0) -> None:
        self._children = list(children)
        self._interval = interval_s
        self.series = {c.name: MemorySeries(c.name) for c in self._children}
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0

    def start(self) -> MemorySampler:
        self._started = time.monotonic()
        self._task = asyncio.create_task(self._run())
        return self

    def sample(self) -> None:
        at = time.monotonic() - self._started
        for child in self._children:
            rss, hwm = child.memory_kb()
            if rss:
                series = self.series[child.name]
                series.samples.append((at, rss))
                series.peak_kb = max(series.peak_kb, hwm)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self.sample()

    def summaries(self, warmup_s: float) -> dict[str, dict[str, Any]]:
        return {name: s.summary(warmup_s) for name, s in self.series.items()}
