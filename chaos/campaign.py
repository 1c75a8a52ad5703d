"""`python -m chaos.campaign`: the seeded long runs RELIABILITY.md records, and their table.

    python -m chaos.campaign run [--only SEED,...]   the plan's runs for the broker mode
                                                     infra/kafka.sh runs, one after the other
    python -m chaos.campaign table DIR_OR_REPORT...  one Markdown row per report.json

A run is `python -m chaos` with the plan's arguments, its report in
`$SALESFLOW_LOCAL_DIR/chaos/campaign/seed<SEED>`; a run whose report is already there is not run
again (a campaign interrupted by hand goes on where it stopped). The plan is declared here once,
so the table in RELIABILITY.md and the commands that replay it cannot drift apart: each row's
seed names one entry below, and `python -m chaos` with that entry's arguments replays it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from chaos.infra import REPO


@dataclass(frozen=True)
class PlannedRun:
    seed: int
    duration_s: int
    scenarios: str
    brokers: int = 1  # 3: only on the replicated cluster (SALESFLOW_KAFKA_BROKERS=3)
    invoice_mode: str = "native"
    rate: float = 10.0
    recovery_window_s: float = 10.0

    def arguments(self) -> list[str]:
        return [
            "--seed", str(self.seed),
            "--duration", str(self.duration_s),
            "--scenarios", self.scenarios,
            "--rate", f"{self.rate:g}",
            "--recovery-window", f"{self.recovery_window_s:g}",
            "--invoice-mode", self.invoice_mode,
        ]  # fmt: skip


# Five minutes of load or more each; together they apply every fault kind in both broker modes
# and both invoicing modes, with overlapping faults. 10 deals/s: about a tenth of what the four
# workers sustain on the 2-core machine (BENCHMARKS.md), so a fault, not the load, is what a
# recovery time measures. `all` needs about 740 s at a 10 s recovery window.
PLAN: tuple[PlannedRun, ...] = (
    # single node
    PlannedRun(20261301, 760, "all"),
    PlannedRun(20261302, 330, "network,overlap"),
    PlannedRun(20261303, 300, "ci,clock_skew,overlap"),
    PlannedRun(20261304, 300, "kafka_restart,kafka_kill,pg_restart,zombie,scale,overlap"),
    PlannedRun(20261305, 300, "stop_drain,reset_group,poison,duplicates,kill,clock_skew,overlap"),
    PlannedRun(
        20261306,
        330,
        "kill,crash_after_db_commit,duplicates,pg_restart,kafka_cut,pg_cut,kafka_latency,"
        "clock_skew,overlap",
        invoice_mode="external",
    ),
    PlannedRun(20261307, 360, "network,clock_skew,overlap"),
    PlannedRun(
        20261308,
        300,
        "kafka_kill,pg_cut,kafka_bandwidth,scale,zombie,crash_relay_after_ack,overlap",
    ),
    PlannedRun(
        20261309,
        330,
        "stop_drain,reset_group,kafka_restart,pg_latency,pg_bandwidth,kafka_reset,zombie,overlap",
        invoice_mode="external",
    ),
    PlannedRun(20261310, 300, "ci,overlap", rate=20.0),
    PlannedRun(20261311, 400, "network,clock_skew,kill,overlap", invoice_mode="external"),
    PlannedRun(
        20261312,
        330,
        "crash_in_transaction,crash_relay_after_ack,kafka_kill,pg_restart,pg_cut,kafka_bandwidth,"
        "overlap",
        rate=20.0,
    ),
    # three-broker cluster, replication factor 3, min.insync.replicas=2
    PlannedRun(20261401, 300, "cluster,overlap", brokers=3),
    PlannedRun(20261402, 480, "cluster,network,overlap", brokers=3),
    PlannedRun(20261403, 380, "cluster,ci,clock_skew", brokers=3),
    PlannedRun(
        20261404,
        300,
        "cluster,kill,duplicates,crash_after_db_commit,pg_restart",
        brokers=3,
        invoice_mode="external",
    ),
    PlannedRun(
        20261405,
        450,
        "cluster,kafka_restart,kafka_kill,zombie,scale,stop_drain,reset_group,poison,overlap",
        brokers=3,
    ),
    PlannedRun(20261406, 300, "cluster", brokers=3),
    PlannedRun(
        20261407,
        360,
        "cluster,clock_skew,pg_cut,pg_latency,kafka_reset,overlap",
        brokers=3,
        invoice_mode="external",
    ),
    PlannedRun(
        20261408,
        330,
        "cluster,crash_in_transaction,crash_relay_after_ack,stop_drain,overlap",
        brokers=3,
    ),
)


def campaign_dir(env: dict[str, str]) -> Path:
    return Path(env.get("SALESFLOW_LOCAL_DIR") or REPO / ".local") / "chaos" / "campaign"


def _run(planned: Iterable[PlannedRun], env: dict[str, str]) -> int:
    failed = 0
    for entry in planned:
        report_dir = campaign_dir(env) / f"seed{entry.seed}"
        if (report_dir / "report.json").exists():
            sys.stdout.write(f"seed {entry.seed}: already run ({report_dir})\n")
            continue
        report_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "chaos", *entry.arguments()]
        command += ["--report-dir", str(report_dir), "--log-level", "WARNING"]
        started = time.monotonic()
        with (report_dir / "campaign.log").open("wb") as log:
            code = subprocess.run(  # noqa: S603 - our own module, fixed arguments
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
            ).returncode
        sys.stdout.write(
            f"seed {entry.seed}: exit {code} after {time.monotonic() - started:.0f}s\n"
        )
        if (report_dir / "report.json").exists():
            sys.stdout.write(row(orjson.loads((report_dir / "report.json").read_bytes())) + "\n")
        failed += code != 0
        sys.stdout.flush()
    return 1 if failed else 0


def _seconds(value: Any) -> str:
    return "never" if value is None else f"{value:.1f}"


HEADER = (
    "| seed | mode | scenarios | load asked / ran, wall | faults by kind | deals | records "
    "| duplicates dropped | recovery, slowest service (progress / 80 % throughput, s) "
    "| invariants | result |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(report: dict[str, Any]) -> str:
    """One Markdown table row of a run's report.json: what RELIABILITY.md records per run."""
    facts = report.get("facts", {})
    faults = report.get("faults", [])
    by_kind = Counter(f["kind"] for f in faults)
    failed_faults = [f["kind"] for f in faults if not f["ok"]]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items()))
    if failed_faults:
        kinds += f" (not effective: {', '.join(failed_faults)})"
    overlapped = sum(1 for o in facts.get("overlaps", []) if o.get("overlapped"))
    if overlapped:
        kinds += f"; {overlapped} overlapping"
    recovery = "; ".join(
        f"{kind} {_seconds(e['progress_s_max'])} / {_seconds(e['throughput_s_max'])}"
        for kind, e in sorted(report.get("recovery_by_kind", {}).items())
        if kind not in ("duplicates", "poison")  # nothing to recover from: over in a moment
    )
    invariants = report.get("invariants", [])
    violations = sum(i["violations"] for i in invariants)
    failing = [i["name"] for i in invariants if not i["passed"]]
    mode = (
        f"{'cluster of 3' if report.get('brokers', 1) >= 3 else 'single node'}, "
        f"{report.get('invoice_mode', 'native')}, {report['rate_per_s']:g}/s"
    )
    dropped = facts.get("counters", {}).get("salesflow_duplicates_dropped_total", 0)
    result = "**PASS**" if report["passed"] else f"**FAIL** ({', '.join(failing) or 'harness'})"
    cells = [
        str(report["seed"]),
        mode,
        ",".join(report["scenarios"]),
        f"{report['duration_s']:.0f} s / {facts.get('load_seconds', 0):.0f} s, "
        f"{report['wall_seconds']:.0f} s",
        kinds or "none",
        f"{facts.get('deals', 0):,}".replace(",", " "),
        f"{facts.get('records_read', 0):,}".replace(",", " "),
        f"{dropped:,.0f}".replace(",", " "),
        recovery or "-",
        f"{len(invariants)} checked, {violations} violations",
        result,
    ]
    return "| " + " | ".join(cells) + " |"


def _reports(paths: Iterable[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in paths:
        path = Path(name)
        files = [path] if path.is_file() else sorted(path.glob("**/report.json"))
        found += [orjson.loads(f.read_bytes()) for f in files]
    return sorted(found, key=lambda r: (r.get("brokers", 1), r["seed"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.campaign", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the plan's runs for the broker mode infra/kafka.sh runs")
    run.add_argument("--only", default="", help="comma-separated seeds of the plan")
    table = sub.add_parser("table", help="Markdown rows of report.json files")
    table.add_argument("paths", nargs="*", help="report.json files or directories holding them")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.command == "table":
        reports = _reports(args.paths or [str(campaign_dir(env))])
        sys.stdout.write("\n".join([HEADER, *(row(r) for r in reports)]) + "\n")
        return 0
    brokers = int(env.get("SALESFLOW_KAFKA_BROKERS") or 1)
    only = {int(s) for s in args.only.split(",") if s.strip()}
    unknown = only - {p.seed for p in PLAN}
    if unknown:
        sys.stderr.write(f"not in the plan: {sorted(unknown)}\n")
        return 2
    planned = [p for p in PLAN if p.brokers == brokers and (not only or p.seed in only)]
    return _run(planned, env)


if __name__ == "__main__":
    sys.exit(main())
