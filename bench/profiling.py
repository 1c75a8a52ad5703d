"""`--profile`: where each worker spends its CPU at capacity, sampled by py-spy.

During the first capacity run, `py-spy record` samples every worker (100 Hz, collapsed stacks,
non-blocking: the worker is never paused). The raw stacks are kept next to the JSON result
(`<stamp>-profile/<service>.txt`, loadable by speedscope or flamegraph.pl), and the result
carries each worker's top functions by own time ("self") and by time below them ("total"), so a
figure in BENCHMARKS.md comes with the profile that explains it.

py-spy reads another process's memory: root, or CAP_SYS_PTRACE in a container. If it cannot
attach, the run goes on and the result says why.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# An event loop waiting for I/O is not work: these frames at the top of a stack are left out.
_IDLE = ("select (selectors.py)", "EpollSelector.select", "Runner.run (asyncio/runners.py)")
_LINE = re.compile(r":\d+\)$")
_OWN = ("services/", "shared/", "contracts/")


def py_spy() -> str | None:
    """The py-spy executable of this environment (installed by `make bootstrap`), if any."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def summarise(lines: Iterable[str], top: int = 12) -> dict[str, Any]:
    """Top functions of py-spy's collapsed stacks ("a;b;c 42" per line), by own samples and by
    samples below them, as shares of the busy samples (idle loop frames left out)."""
    own: Counter[str] = Counter()
    below: Counter[str] = Counter()
    busy = idle = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        if frames[-1].startswith(_IDLE):
            idle += n
            continue
        busy += n
        own[frames[-1]] += n
        # "total" is over salesflow's own functions (where a change would go): the framework
        # frames around them (the CLI, the loop, FastStream's dispatch) hold most samples and
        # say nothing.
        for frame in {f for f in frames if f.startswith(_OWN, f.find(" (") + 2)}:
            below[frame] += n

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "share": round(n / busy, 4)} for name, n in counter.most_common(top)
        ]

    return {"samples": busy + idle, "busy_samples": busy, "self": share(own), "total": share(below)}


async def record(pids: Mapping[str, int], seconds: float, out_dir: Path) -> dict[str, Any]:
    """Sample every process of `pids` for `seconds`; {name: summary or {"error": ...}}."""
    exe = py_spy()
    if exe is None:
        return {name: {"error": "py-spy is not installed (make bootstrap)"} for name in pids}
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)

    async def one(name: str, pid: int) -> dict[str, Any]:
        target = out_dir / f"{name}.txt"
        proc = await asyncio.create_subprocess_exec(
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "100",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(target),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        return await asyncio.to_thread(_collected, target, proc.returncode, err)

    names = list(pids)
    results = await asyncio.gather(*(one(n, pids[n]) for n in names))
    return dict(zip(names, results, strict=True))


def _collected(target: Path, returncode: int | None, err: bytes) -> dict[str, Any]:
    if returncode != 0 or not target.exists():
        return {"error": err.decode(errors="replace").strip()[-300:] or f"exit {returncode}"}
    with target.open() as stacks:
        return {"stacks": str(target), **summarise(stacks)}


def headline(summary: dict[str, Any], top: int = 4) -> str:
    """One line: the top functions by own time, or why there is no profile."""
    if "error" in summary:
        return f"not sampled ({summary['error']})"
    return ", ".join(f"{f['function']} {f['share']:.0%}" for f in summary["self"][:top])
