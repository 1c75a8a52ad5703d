"""Where the real Kafka and PostgreSQL of the tests come from, and how to break them.

Order: the environment (`SALESFLOW_KAFKA_BOOTSTRAP` + `SALESFLOW_DATABASE_URL`), then
testcontainers when a Docker engine answers, then the repo's own local infra (`infra/up.sh`
starts Kafka from Apache's jars and PostgreSQL from Debian's packages). Nothing is skipped in CI:
a test that needs a capability the endpoints lack fails there.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class LocalInfra:
    """Stops and starts the repo's local servers (fault tests)."""

    def _run(self, script: str, action: str) -> None:
        subprocess.run(["bash", str(INFRA / script), action], check=True, cwd=REPO, timeout=180)

    def postgres_stop_immediate(self) -> None:
        self._run("postgres.sh", "stop-immediate")

    def postgres_start(self) -> None:
        self._run("postgres.sh", "start")

    def kafka_kill(self) -> None:
        self._run("kafka.sh", "kill")

    def kafka_stop(self) -> None:
        self._run("kafka.sh", "stop")

    def kafka_start(self) -> None:
        self._run("kafka.sh", "start")

    @staticmethod
    def manages_running_servers() -> bool:
        checks = [
            subprocess.run(
                ["bash", str(INFRA / script), "status"], capture_output=True, cwd=REPO, timeout=60
            ).returncode
            for script in ("postgres.sh", "kafka.sh")
        ]
        return all(code == 0 for code in checks)


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    database_url: str
    control: LocalInfra | None

    def require_control(self) -> LocalInfra:
        if self.control is None:
            message = "these endpoints cannot be stopped and started by the tests"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        return self.control


def _docker_answers() -> bool:
    """A Docker engine answers /_ping on its socket (asked by hand: the docker library leaks
    its socket when the engine is absent, which this suite's warning policy turns into errors)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True  # a remote engine: let testcontainers find out
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(host.removeprefix("unix://"))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def resolve_endpoints() -> tuple[Endpoints, list[object]]:
    """The endpoints, plus any containers to stop at the end of the session."""
    kafka = os.environ.get("SALESFLOW_KAFKA_BOOTSTRAP")
    database = os.environ.get("SALESFLOW_DATABASE_URL")
    if kafka and database:
        control = LocalInfra() if LocalInfra.manages_running_servers() else None
        return Endpoints(kafka, database, control), []
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

        kafka_c = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        pg_c = PostgresContainer(
            "postgres:15",
            username="salesflow",
            password="salesflow",
            dbname="salesflow",
            driver="asyncpg",
        )
        kafka_c.start()
        pg_c.start()
        return Endpoints(kafka_c.get_bootstrap_server(), pg_c.get_connection_url(), None), [
            kafka_c,
            pg_c,
        ]
    done = subprocess.run(
        ["bash", str(INFRA / "up.sh")], capture_output=True, text=True, cwd=REPO, timeout=900
    )
    if done.returncode != 0:
        pytest.fail(f"local infra did not start:\n{done.stderr[-3000:]}")
    values = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("SALESFLOW_")
    )
    return (
        Endpoints(
            values["SALESFLOW_KAFKA_BOOTSTRAP"], values["SALESFLOW_DATABASE_URL"], LocalInfra()
        ),
        [],
    )
