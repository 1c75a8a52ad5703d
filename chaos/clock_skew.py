"""A worker whose clock is hours off: the host's clock is wrong, and stays wrong.

The worker is replaced by one run under libfaketime (`scripts/faketime.sh` installs it on first
use), LD_PRELOADed, so that every wall clock the process reads (its `now`, its ticker, its log
lines, the timestamps its Kafka producer puts on records) is `skew_s` off, ahead or behind. The
monotonic clock is left alone, as NTP trouble leaves it alone on a real host: timers and timeouts
keep their length. Every later process of that stage (a kill or a scale after this fault) runs
with the same clock, for the rest of the run, so that the run's final time jump is decided by
skewed workers too: the time rules must act on the tick's time, never the worker's.

The skew must be seen to work: the replacement's first log line is stamped by its own clock,
which must differ from the harness's by the skew.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from chaos.infra import REPO, SetupError

if TYPE_CHECKING:
    from chaos.faults import Applied, FaultContext
    from chaos.fleet import WorkerProcess
    from chaos.schedule import Fault

READY_WAIT_S = 180.0
SKEW_TOLERANCE_S = 120.0  # the log line is written a moment after the launch on a busy machine


def faketime_library() -> str:
    done = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(REPO / "scripts" / "faketime.sh")],  # noqa: S607 - bash from PATH, like make
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    path = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not path:
        raise SetupError(f"scripts/faketime.sh failed: {done.stderr.strip()[-500:]}")
    return path


def skewed_env(library: str, skew_s: int) -> dict[str, str]:
    """The environment that runs a process `skew_s` seconds off (libfaketime's relative form)."""
    return {
        "LD_PRELOAD": library,
        "FAKETIME": f"{skew_s:+d}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        # no cache of the settings file libfaketime would otherwise look for
        "FAKETIME_NO_CACHE": "1",
    }


def observed_skew_s(worker: WorkerProcess, launched: datetime) -> float | None:
    """The worker's first log line's timestamp minus the launch time by the harness's clock."""
    try:
        with worker.log_path.open("rb") as log:
            for line in log:
                stamp = orjson.loads(line).get("timestamp") if line.startswith(b"{") else None
                if stamp:
                    seen = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                    return (seen - launched).total_seconds()
    except (OSError, ValueError):
        return None
    return None


async def clock_skew(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    assert fault.stage
    skew_s = int(fault.params["skew_s"])
    library = await asyncio.to_thread(faketime_library)
    ctx.fleet.stage_env[fault.stage] = skewed_env(library, skew_s)
    for worker in list(ctx.fleet.live[fault.stage]):
        await ctx.fleet.retire(worker)
    launched_at, launched = datetime.now(UTC), ctx.now()
    workers = [ctx.fleet.launch(fault.stage) for _ in range(ctx.members)]
    await asyncio.gather(*(w.wait_ready(READY_WAIT_S) for w in workers))
    applied.healed_s = ctx.now()
    applied.restart_s = applied.healed_s - launched
    seen = observed_skew_s(workers[0], launched_at)
    hours = skew_s / 3600
    applied.detail = (
        f"{fault.stage} restarted as {', '.join(w.name for w in workers)} with its clock "
        f"{hours:+.2f} h off for the rest of the run; its first log line stamped "
        + ("never" if seen is None else f"{seen / 3600:+.2f} h from the launch")
    )
    if seen is None or abs(seen - skew_s) > SKEW_TOLERANCE_S:
        applied.ok = False
        applied.detail += " (the skew did not take)"
