"""`python -m chaos --seed S --duration D [--scenarios ...]`: one seeded fault-injection run.

Endpoints come from SALESFLOW_KAFKA_BOOTSTRAP / SALESFLOW_DATABASE_URL (or --kafka /
--database-url); Kafka and PostgreSQL are stopped and started through infra/*.sh with this
process's environment (SALESFLOW_LOCAL_DIR, SALESFLOW_KAFKA_PORT, SALESFLOW_PG_PORT select a
second instance). Exit code 0: every invariant held; 1: a violation (see the report); 2: the run
could not be set up (for example the servers cannot be controlled).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import shlex
import signal
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from chaos.harness import RunConfig, run
from chaos.infra import REPO, Endpoints, InfraControl, SetupError
from chaos.recovery import Bounds
from chaos.report import render, write
from chaos.schedule import KINDS, OVERLAP, OVERLAP_HELP, PRESETS, expand, minimum_duration
from shared.logs import configure_logging

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    kinds = "\n".join(f"  {k:<24} {v}" for k, v in {**KINDS, OVERLAP: OVERLAP_HELP}.items())
    presets = "\n".join(f"  {k:<24} {', '.join(v)}" for k, v in PRESETS.items())
    parser = argparse.ArgumentParser(
        prog="python -m chaos",
        description="Seeded fault injection with an invariant checker.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"scenarios:\n{kinds}\npresets:\n{presets}",
    )
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds of load + faults")
    parser.add_argument("--scenarios", default="all", help="comma-separated kinds or presets")
    parser.add_argument("--rate", type=float, default=20.0, help="deals started per second")
    parser.add_argument(
        "--members", type=int, default=1, help="processes per worker outside faults"
    )
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the first fault")
    parser.add_argument("--recovery-window", type=float, default=20.0)
    parser.add_argument("--progress-bound", type=float, default=60.0)
    parser.add_argument("--throughput-bound", type=float, default=120.0)
    parser.add_argument("--throughput-ratio", type=float, default=0.8)
    parser.add_argument("--report-dir", type=Path, default=None)
    parser.add_argument("--kafka", default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--invoice-mode",
        choices=("native", "external"),
        default=os.environ.get("SALESFLOW_INVOICE_MODE", "native").lower(),
        help="invoice_svc's mode (SALESFLOW_INVOICE_MODE); external: the load plays the ERP",
    )
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="write history.json.gz next to the report (always done when the run fails)",
    )
    return parser


async def _until_signalled(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; SIGTERM or SIGINT cancel it, so its cleanup (stop the workers, start a server
    a fault left down) runs before the process exits."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    return await task


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level, json=False)
    # The harness's own clients see every broker outage it causes; their reconnect chatter is
    # not news (the workers' logs, in the report directory, keep theirs).
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    # every call to the fault proxy's API would be a line
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        kinds = expand([s.strip() for s in args.scenarios.split(",") if s.strip()])
    except ValueError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    shortest = minimum_duration(kinds, warmup_s=args.warmup, recovery_window_s=args.recovery_window)
    if args.duration < shortest:
        sys.stderr.write(
            f"--duration {args.duration:.0f} is too short for {len(kinds)} scenarios; "
            f"use at least {shortest:.0f}\n"
        )
        return 2
    # The workers (started with this environment), the load and the checker all read it.
    os.environ["SALESFLOW_INVOICE_MODE"] = args.invoice_mode
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    local = Path(os.environ.get("SALESFLOW_LOCAL_DIR", REPO / ".local"))
    report_dir = args.report_dir or local / "chaos" / f"{stamp}-seed{args.seed}"
    # Everything that shapes the schedule, the load or the verdict, so the line replays the run.
    command = shlex.join(
        [
            "python", "-m", "chaos",
            "--seed", str(args.seed),
            "--duration", f"{args.duration:g}",
            "--scenarios", ",".join(kinds),
            "--rate", f"{args.rate:g}",
            "--members", str(args.members),
            "--warmup", f"{args.warmup:g}",
            "--recovery-window", f"{args.recovery_window:g}",
            "--progress-bound", f"{args.progress_bound:g}",
            "--throughput-bound", f"{args.throughput_bound:g}",
            "--throughput-ratio", f"{args.throughput_ratio:g}",
            "--invoice-mode", args.invoice_mode,
        ]
    )  # fmt: skip
    config = RunConfig(
        seed=args.seed,
        duration_s=args.duration,
        kinds=tuple(kinds),
        rate=args.rate,
        warmup_s=args.warmup,
        recovery_window_s=args.recovery_window,
        bounds=Bounds(args.progress_bound, args.throughput_bound, args.throughput_ratio),
        report_dir=report_dir,
        command=command,
        keep_history=args.keep_history,
        members=args.members,
        invoice_mode=args.invoice_mode,
    )
    try:
        endpoints = Endpoints.from_env(os.environ, args.kafka, args.database_url)
        control = InfraControl(report_dir / "infra.log")
        config = dataclasses.replace(config, brokers=control.brokers)
        report_dir.mkdir(parents=True, exist_ok=True)
        outcome = asyncio.run(_until_signalled(run(config, endpoints, control)))
    except SetupError as error:
        sys.stderr.write(f"chaos: cannot run: {error}\n")
        return 2
    except asyncio.CancelledError:
        sys.stderr.write("chaos: interrupted; workers stopped, servers started again\n")
        return 130
    json_path, _ = write(outcome, report_dir)
    sys.stdout.write(render(outcome) + f"\nreport: {json_path}\n")
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
