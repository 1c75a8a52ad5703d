"""infra/lib.sh `logged_since`: how infra/kafka.sh tells that a cluster node has started (its
log says so after the line count taken at its launch).

Regression test for a bug the chaos harness found (seed 20261405): the check was
`tail -n +N server.log | grep -q ...` under `set -o pipefail`; grep quits at the match, tail
dies of SIGPIPE when more than a pipe buffer follows, and the pipeline failed, so a node that
had started and went on logging (as a loaded one does) was reported as not answering within
the 120 s start timeout."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.infra import INFRA

STARTED = "[KafkaRaftServer nodeId=3] Kafka Server started (kafka.server.KafkaRaftServer)"


def _logged_since(log: Path, since: int) -> int:
    script = 'set -euo pipefail; source "$1"; logged_since "$2" "$3" "Kafka Server started"'
    return subprocess.run(
        ["bash", "-c", script, "_", str(INFRA / "lib.sh"), str(log), str(since)],
        capture_output=True,
        check=False,
    ).returncode


def test_a_start_followed_by_much_more_log_is_seen(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    after = "\n".join(
        f"[2026-12-02 11:55:13,{i % 1000:03}] INFO Truncating partition p-{i}"
        for i in range(20_000)
    )
    log.write_text(f"old line\n{STARTED}\nshutdown\nnew start\n{STARTED}\n{after}\n")
    assert _logged_since(log, 3) == 0


def test_a_start_before_the_launch_does_not_count(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(f"{STARTED}\nshutdown\nnew start\nstill starting\n")
    assert _logged_since(log, 2) != 0
    assert _logged_since(tmp_path / "missing.log", 0) != 0
