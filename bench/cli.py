"""`python -m bench [--quick | --soak]`: run the benchmark, print the table, write the JSON.

Profiles (all on the Kafka and PostgreSQL of SALESFLOW_KAFKA_BOOTSTRAP / SALESFLOW_DATABASE_URL):

- default (`make bench`, about 15 minutes on a quiet machine): lead_svc and order_svc each
  against the baseline on 20,000 messages, 3 runs; lead_svc again at batch sizes 20, 50 and 150
  for the CPU fit; end to end: 3 capacity runs of 20 s, then 3 runs of 30 s at a quarter, half
  and 90 % of capacity, and 30 s at a trickle (1 deal/s);
- `--quick` (about 4 minutes, a smoke check): 3,000 messages, 1 run per stage, fit at 25 and 100;
  1 run of 10 s per level, 20 s at a trickle;
- `--soak` (`make bench-soak`, about 11 minutes): the four workers for 10 minutes at half
  capacity, RSS sampled every 5 s, to show whether memory stays flat.

Every figure the targets name is printed with its target and whether it is met
(`bench.report.TARGETS`). The benchmark starts and stops its own worker processes; on any exit
(including Ctrl-C and SIGTERM) it stops every child it started.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import lifecycle, machine, one_stage, report
from bench.processes import Children
from contracts.stages import SERVICES
from contracts.topics import ALL_TOPICS
from shared.settings import RuntimeSettings
from shared.topics_admin import ensure_topics

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


@dataclass(frozen=True)
class Profile:
    name: str
    stage_messages: int
    stage_runs: int
    probe_s: float
    run_s: float
    e2e_runs: int
    in_flight: int
    grace_s: float
    soak_s: float = 0.0
    max_minutes: float = 30.0  # a hard bound: past it the run is cancelled and cleaned up
    # Offered rates of the fixed-rate runs, as fractions of the measured capacity.
    levels: tuple[tuple[str, float], ...] = (("quarter", 0.25), ("half", 0.5), ("near_max", 0.9))
    # Seconds at a trickle (1 deal/s, open loop; one run): the latency of an idle pipeline.
    trickle_s: float = 30.0
    # Extra one-stage runs of lead_svc at these maximum batch sizes (SALESFLOW_BATCH_MAX_RECORDS)
    # for the fit of its CPU against the batch size; the stage runs at 500 are points too.
    fit_batch_sizes: tuple[int, ...] = (20, 50, 150)


PROFILES = {
    "default": Profile("default", 20_000, 3, 20.0, 30.0, 3, 1500, 10.0),
    # ~3-4 minutes when nothing else runs; bounded at 10. One run of everything, shorter.
    "quick": Profile(
        "quick",
        3_000,
        1,
        10.0,
        10.0,
        1,
        1000,
        10.0,
        max_minutes=10.0,
        trickle_s=20.0,
        fit_batch_sizes=(25, 100),
    ),
    "soak": Profile(
        "soak", 0, 0, 0.0, 0.0, 0, 1500, 10.0, soak_s=600.0, max_minutes=25.0, trickle_s=0.0
    ),
}


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


async def _foreign_workers(database_url: str) -> dict[str, int]:
    """Connections other salesflow workers hold (each worker names its pool after its service):
    another member of a group shares the partitions and the CPU, so the figures are contended."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT application_name, count(*) FROM pg_stat_activity "
                    "WHERE application_name = ANY(:names) GROUP BY application_name"
                ),
                {"names": list(SERVICES)},
            )
            return {str(name): int(count) for name, count in rows}
    finally:
        await engine.dispose()


def _settings_in_effect(settings: RuntimeSettings) -> dict[str, Any]:
    # JSON mode: secrets (the database password, the Kafka SASL password) come out masked, and
    # paths as text; the endpoints and credentials are left out altogether.
    values = settings.model_dump(
        mode="json", exclude={"database_url", "database_password", "kafka_security"}
    )
    return {k: v for k, v in values.items() if k not in {"health_port", "crash_point"}}


async def _run(args: argparse.Namespace, profile: Profile) -> dict[str, Any]:
    settings = RuntimeSettings()
    bootstrap, database_url = settings.kafka_bootstrap, settings.sqlalchemy_url()
    infra_ports = machine.ports(bootstrap, database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = REPO / ".local" / "bench-logs" / stamp
    # py-spy's raw stacks go next to the JSON result (bench.profiling)
    results_dir = Path(args.out) if args.out else RESULTS
    args.profile_dir = results_dir / f"{stamp}-profile" if args.profile else None
    children = Children(REPO, log_dir, dict(os.environ))
    atexit.register(children.kill_all)
    interrupts = _Interrupts(asyncio.current_task())
    started = time.monotonic()
    result: dict[str, Any] = {
        "command": "python -m bench" + (f" --{profile.name}" if profile.name != "default" else ""),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "profile": asdict(profile),
        "settings": _settings_in_effect(settings),
        "logs": str(log_dir),
        "warnings": [],
    }
    _say(f"salesflow benchmark ({profile.name}); worker logs in {log_dir}")
    try:
        # A longer soak asked for on the command line extends the bound by its length.
        async with asyncio.timeout(profile.max_minutes * 60 + args.soak_seconds):
            await _phases(args, profile, result, bootstrap, database_url, infra_ports, children)
    finally:
        interrupts.cleaning_up = True
        await children.close()
    if interrupts.received:
        raise asyncio.CancelledError
    late = await _foreign_workers(database_url)
    if late:
        result["warnings"].append(f"other salesflow workers were running at the end ({late})")
    result["incomplete"] = _incomplete(result)
    result["warnings"] += result["incomplete"]
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["seconds"] = round(time.monotonic() - started, 1)
    result["targets"] = report.verdicts(result)
    path = report.write(result, results_dir, stamp)
    print(report.render(result))  # noqa: T201 - the table is this command's output
    _say(f"\nresult: {path}")
    return result


class _Interrupts:
    """SIGINT and SIGTERM cancel the run, again every half second until it reaches its cleanup.

    aiokafka swallows a cancellation that arrives while a client is stopping (it awaits its own
    tasks under `suppress(CancelledError)`), and the benchmark starts and stops clients all the
    time, so one `cancel()` is not enough to be sure to stop.
    """

    def __init__(self, task: asyncio.Task[Any] | None) -> None:
        self._task = task
        self._loop = asyncio.get_running_loop()
        self.received = False
        self.cleaning_up = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(sig, self._cancel)

    def _cancel(self) -> None:
        if self.received:
            return
        self.received = True
        _say("stopping: cancelling the run and stopping every worker it started")
        self._again()

    def _again(self) -> None:
        if self._task is None or self._task.done() or self.cleaning_up:
            return
        self._task.cancel()
        self._loop.call_later(0.5, self._again)


async def _phases(
    args: argparse.Namespace,
    profile: Profile,
    result: dict[str, Any],
    bootstrap: str,
    database_url: str,
    infra_ports: tuple[int, int],
    children: Children,
) -> None:
    # A fresh broker has no topics until a worker starts; the observers need them first.
    await ensure_topics(bootstrap, ALL_TOPICS)
    foreign = await _foreign_workers(database_url)
    result["foreign_workers_at_start"] = foreign
    if foreign:
        result["warnings"].append(
            f"other salesflow workers were running ({foreign}): they share partitions and CPU"
        )
    load = result["machine"]["loadavg_at_start"][0]
    if load > 0.5 * (result["machine"]["cpus"] or 1):
        result["warnings"].append(f"the machine was busy at start (load average {load:.2f})")
    if profile.stage_runs:
        _say("1+2. baseline pass-through against lead_svc and order_svc (cold), same records")
        result["stage"] = await one_stage.run(
            bootstrap=bootstrap,
            children=children,
            messages=profile.stage_messages,
            repetitions=profile.stage_runs,
            seed=args.seed,
            timeout_s=300.0,
            infra_ports=infra_ports,
            say=_say,
            fit_batch_sizes=profile.fit_batch_sizes,
        )
    if profile.e2e_runs:
        _say("3+4. end to end through the four workers, RSS sampled every second")
        result["lifecycle"] = await lifecycle.run(
            bootstrap=bootstrap,
            database_url=database_url,
            repo=REPO,
            children=children,
            probe_s=profile.probe_s,
            run_s=profile.run_s,
            repetitions=profile.e2e_runs,
            in_flight=profile.in_flight,
            grace_s=profile.grace_s,
            seed=args.seed,
            infra_ports=infra_ports,
            say=_say,
            levels=profile.levels,
            trickle_s=profile.trickle_s,
            profile_dir=args.profile_dir,
        )
    if profile.soak_s:
        _say(f"4. soak: {profile.soak_s / 60:.0f} minutes, RSS sampled every 5 s")
        result["soak"] = await lifecycle.soak(
            bootstrap=bootstrap,
            database_url=database_url,
            repo=REPO,
            children=children,
            seconds=args.soak_seconds or profile.soak_s,
            rate=args.soak_rate,
            in_flight=profile.in_flight,
            grace_s=profile.grace_s,
            seed=args.seed,
            infra_ports=infra_ports,
            say=_say,
        )


def _incomplete(result: dict[str, Any]) -> list[str]:
    """Runs that did not account for every one of their own messages or deals: a fault, not a
    slow machine (slowness shows as "kept up: no"), and the reason for a non-zero exit."""
    found = []
    stage = result.get("stage") or {}
    for name, measured in stage.get("stages", {}).items():
        for run in measured["runs"]:
            for side in ("baseline", "stage"):
                if not run[side]["complete"]:
                    seen, n = run[side]["outcomes_seen"], run[side]["messages"]
                    found.append(f"{name} {side} run {run['run_id']}: {seen}/{n} outcomes")
    for run in stage.get("cpu_fit", {}).get("fit_runs", []):
        if not run["stage"]["complete"]:
            seen, n = run["stage"]["outcomes_seen"], run["stage"]["messages"]
            found.append(f"fit run {run['run_id']}: {seen}/{n} outcomes")
    life = result.get("lifecycle") or {}
    runs = [*life.get("capacity", {}).get("runs", [])]
    for level in life.get("levels", {}).values():
        runs += level["runs"]
    soak = result.get("soak") or {}
    runs += soak.get("run", {}).get("minutes", [])
    for run in runs:
        missing = run["deals_published"] - run["deals_completed"]
        if missing:
            found.append(f"e2e run {run['run_id']}: {missing} deals incomplete: {run['stuck'][:3]}")
    return found


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["passthrough"]:
        from bench import passthrough  # noqa: PLC0415 - the baseline process loads only this

        passthrough.main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="~4 minute smoke version")
    mode.add_argument("--soak", action="store_true", help="10-minute memory run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="directory for the JSON result (default bench/results)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample every worker with py-spy during the first capacity run (bench.profiling)",
    )
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="soak length override")
    parser.add_argument(
        "--soak-rate", type=float, default=0.0, help="deals/s to soak at (default: half capacity)"
    )
    args = parser.parse_args(argv)
    profile = PROFILES["quick" if args.quick else "soak" if args.soak else "default"]
    try:
        result = asyncio.run(_run(args, profile))
    except (KeyboardInterrupt, asyncio.CancelledError):
        _say("interrupted: every worker the benchmark started was stopped")
        raise SystemExit(130) from None
    except TimeoutError:
        _say("gave up: the run exceeded its time bound; every worker was stopped")
        raise SystemExit(124) from None
    if result["incomplete"]:
        raise SystemExit(3)
