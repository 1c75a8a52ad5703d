"""The short chaos run on a three-broker cluster: the faults only replication has.

`python -m chaos --scenarios cluster` (the leader of a busy partition SIGKILLed and started again,
the active KRaft controller SIGKILLed and started again, a follower SIGSTOPped until it leaves the
ISR and then resumed) under steady load, on topics with replication factor 3 and
min.insync.replicas=2, then every invariant checked.

The test brings up its own cluster AND its own PostgreSQL (`infra/up.sh` with a state directory
of its own, `SALESFLOW_LOCAL_DIR`), on ports of its own (`SALESFLOW_CHAOS_CLUSTER_KAFKA_PORT`,
default 29400, nodes 10 apart; `SALESFLOW_CHAOS_CLUSTER_PG_PORT`, default 25433), and removes
both at the end. Below Linux's ephemeral range (32768-60999): a node SIGKILLed by a fault must
bind its ports again, and a client connection may have been given one of them meanwhile
(node 2's TLS port 59512 was, 2026-12-02: "Address already in use", the node never came back).
Its own PostgreSQL, not the session's: workers of two deployments on one database steal each
other's outbox rows and publish them to the wrong Kafka (seed 20261205 in RELIABILITY.md, "On a
three-broker cluster").

Part of CI since 2026-12-02: on the quiet 2-core machine it took 202 s in all (the chaos run 168 s
of it; each SIGKILLed broker was down about 33 s, most of it its JVM starting). Earlier attempts
on the same machine under other engineers' load (a load average of 20-30) did not finish within
15 minutes: every killed broker then took 23-118 s to start again. The bound below leaves room
for a slower machine and still fails a run that hangs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.schedule import PRESETS
from tests.support.infra import INFRA, REPO

pytestmark = pytest.mark.chaos

SEED = 20261206
DURATION_S = 170
# The throughput baseline is the rate from second 8 to the first fault: at 15 s it was 7 s of
# the pipeline filling, above the steady rate, and invoice_svc never got back to 80 % of it
# (CI at 5579880). 20 s and a 10 s recovery window, as the campaign's cluster runs.
WARMUP_S = 20
RECOVERY_WINDOW_S = 10
WALL_LIMIT_S = 600  # the chaos run alone; the cluster's start and removal come on top
LOCAL_DIR = REPO / ".local-chaos-cluster"


def _own_env() -> dict[str, str]:
    """The environment without the session's endpoints: everything points at the test's own
    servers, whose ports and state directory are set here."""
    kafka_port = int(os.environ.get("SALESFLOW_CHAOS_CLUSTER_KAFKA_PORT", "29400"))
    pg_port = int(os.environ.get("SALESFLOW_CHAOS_CLUSTER_PG_PORT", "25433"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("SALESFLOW_")}
    return {
        **base,
        "SALESFLOW_LOCAL_DIR": str(LOCAL_DIR),
        "SALESFLOW_KAFKA_BROKERS": "3",
        "SALESFLOW_KAFKA_PORT": str(kafka_port),
        "SALESFLOW_KAFKA_CONTROLLER_PORT": str(kafka_port + 1),
        "SALESFLOW_KAFKA_TLS_PORT": str(kafka_port + 2),
        "SALESFLOW_PG_PORT": str(pg_port),
        # A node killed by a fault starts again while the load runs: the C1 compiler only
        # (less JIT work) shortens that start on a small, busy machine.
        "KAFKA_HEAP_OPTS": "-Xmx384m -Xms192m -XX:TieredStopAtLevel=1",
    }


def _infra(env: dict[str, str], script: str, *args: str) -> None:
    done = subprocess.run(
        ["bash", str(INFRA / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{script} {' '.join(args)} failed:\n{done.stderr[-3000:]}"


def _env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="module")
def cluster_env() -> Iterator[dict[str, str]]:
    """A three-broker cluster and a PostgreSQL of the test's own; their endpoints (the env file
    `infra/up.sh` writes) over the test's environment."""
    env = _own_env()
    _infra(env, "down.sh", "--purge")  # what an interrupted earlier run left
    try:
        _infra(env, "up.sh")
        yield {**env, **_env_file(LOCAL_DIR / "salesflow.env")}
    finally:
        _infra(env, "down.sh", "--purge")


@pytest.mark.timeout(WALL_LIMIT_S + 900)
def test_the_guarantees_hold_when_brokers_fail(cluster_env: dict[str, str], tmp_path: Path) -> None:
    report_dir = tmp_path / "chaos"
    command = [
        sys.executable,
        "-m",
        "chaos",
        "--seed",
        str(SEED),
        "--duration",
        str(DURATION_S),
        "--scenarios",
        "cluster",
        "--rate",
        "10",
        "--warmup",
        str(WARMUP_S),
        "--recovery-window",
        str(RECOVERY_WINDOW_S),
        "--report-dir",
        str(report_dir),
        "--log-level",
        "WARNING",
    ]
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=REPO,
        env=cluster_env,
        capture_output=True,
        text=True,
        timeout=WALL_LIMIT_S + 60,
    )
    wall = time.monotonic() - started
    assert done.returncode in (0, 1), (
        f"chaos could not run ({done.returncode}):\n{done.stderr[-3000:]}"
    )
    report = json.loads((report_dir / "report.json").read_text())
    text = (report_dir / "report.txt").read_text()
    assert report["passed"], f"invariants violated (report in {report_dir}):\n{text}"
    assert done.returncode == 0
    assert report["brokers"] == 3, "the run did not see the cluster"
    assert "replicated_topics" in {i["name"] for i in report["invariants"]}, text
    applied = {f["kind"] for f in report["faults"]}
    assert set(PRESETS["cluster"]) <= applied, text
    assert all(f["ok"] for f in report["faults"]), text
    checked = {i["name"]: i["checked"] for i in report["invariants"]}
    empty = {name for name, n in checked.items() if not n} - {"poison_answered"}
    assert not empty, f"an invariant checked nothing: {checked}"
    assert wall < WALL_LIMIT_S, f"the cluster run took {wall:.0f}s"
