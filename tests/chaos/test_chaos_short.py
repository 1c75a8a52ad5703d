"""The short chaos run of the test suite: the most telling faults, fixed seed, one process each.

`python -m chaos` with the `ci` preset (worker SIGKILL inside the transaction, after the DB
commit, in the relay after the broker ack, and at a random moment; PostgreSQL immediate stop and
restart; re-published duplicates; every kind of poison message) runs the four workers as
processes on the session's Kafka and PostgreSQL under steady load, then checks every invariant.
The servers must be controllable (`infra/*.sh`): in CI a run without the PostgreSQL restart
would prove less than it claims, so it fails there instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos.schedule import PRESETS
from tests.support.infra import REPO, Endpoints

pytestmark = pytest.mark.chaos

SEED = 20261127
DURATION_S = 190
WALL_LIMIT_S = 480


@pytest.mark.timeout(WALL_LIMIT_S + 120)
def test_the_guarantees_hold_under_the_ci_faults(endpoints: Endpoints, tmp_path: Path) -> None:
    endpoints.require_control()
    report_dir = tmp_path / "chaos"
    env = {
        **os.environ,
        "SALESFLOW_KAFKA_BOOTSTRAP": endpoints.kafka,
        "SALESFLOW_DATABASE_URL": endpoints.database_url,
    }
    command = [
        sys.executable,
        "-m",
        "chaos",
        "--seed",
        str(SEED),
        "--duration",
        str(DURATION_S),
        "--scenarios",
        "ci",
        "--recovery-window",
        "10",
        "--report-dir",
        str(report_dir),
        "--log-level",
        "WARNING",
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=WALL_LIMIT_S + 60
    )
    wall = time.monotonic() - started
    assert done.returncode in (0, 1), (
        f"chaos could not run ({done.returncode}):\n{done.stderr[-3000:]}"
    )
    report = json.loads((report_dir / "report.json").read_text())
    text = (report_dir / "report.txt").read_text()
    assert report["passed"], f"invariants violated (report in {report_dir}):\n{text}"
    assert done.returncode == 0
    applied = {f["kind"] for f in report["faults"]}
    assert set(PRESETS["ci"]) <= applied, text
    assert all(f["ok"] for f in report["faults"]), text
    checked = {i["name"]: i["checked"] for i in report["invariants"]}
    assert all(checked.values()), f"an invariant checked nothing: {checked}"
    assert report["facts"]["counters"]["salesflow_duplicates_dropped_total"] > 0, text
    assert wall < WALL_LIMIT_S, f"the short run took {wall:.0f}s"
