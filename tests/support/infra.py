"""Where the real Kafka and PostgreSQL of the tests come from, and how to break them.

Order: the environment (`SALESFLOW_KAFKA_BOOTSTRAP` + `SALESFLOW_DATABASE_URL`), then
testcontainers when a Docker engine answers, then the repo's own local infra (`infra/up.sh`
starts Kafka from Apache's jars and PostgreSQL from Debian's packages). Nothing is skipped in CI:
a test that needs a capability the endpoints lack fails there.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.local_secrets import identity_env
from shared.settings import database_url_from_env

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class LocalInfra:
    """Stops and starts the local servers (fault tests), with this checkout's infra scripts
    pointed at the state directory (and ports) of the servers actually running: they may have
    been started from another checkout."""

    env: dict[str, str] = field(default_factory=dict)

    def _run(self, script: str, action: str) -> None:
        subprocess.run(
            ["bash", str(INFRA / script), action],
            check=True,
            cwd=REPO,
            timeout=180,
            env={**os.environ, **self.env},
        )

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

    def manages_running_servers(self) -> bool:
        checks = [
            subprocess.run(
                ["bash", str(INFRA / script), "status"],
                capture_output=True,
                cwd=REPO,
                timeout=60,
                env={**os.environ, **self.env},
            ).returncode
            for script in ("postgres.sh", "kafka.sh")
        ]
        return all(code == 0 for code in checks)

    @classmethod
    def serving(cls, kafka: str, database_url: str) -> LocalInfra | None:
        """Control of the servers listening on these endpoints, when they are infra/ servers
        of some checkout (found from the listening processes) that this user may stop."""
        # a cluster's bootstrap lists every node; infra/kafka.sh numbers them from the first
        servers = kafka.split(",")
        kafka_port = int(servers[0].rsplit(":", 1)[1])
        pg_port = urlsplit(database_url.replace("+asyncpg", "")).port or 5432
        kafka_home = _arg_of(kafka_port, "-Dsalesflow.kafka.home=")
        pg_data = _arg_of(pg_port, "-D")
        if kafka_home is None or pg_data is None:
            return None
        local = Path(kafka_home).parent
        if Path(pg_data).parent.parent != local:
            return None  # the two servers belong to different state directories
        env = {
            "SALESFLOW_LOCAL_DIR": str(local),
            "SALESFLOW_KAFKA_PORT": str(kafka_port),
            "SALESFLOW_PG_PORT": str(pg_port),
        }
        if Path(kafka_home).name != "kafka":  # .local/kafka-N: node N of a cluster
            env["SALESFLOW_KAFKA_BROKERS"] = str(len(servers))
        properties = Path(kafka_home) / "server.properties"
        found = re.search(r"CONTROLLER://[^:]+:(\d+)", properties.read_text(errors="replace"))
        if found:
            env["SALESFLOW_KAFKA_CONTROLLER_PORT"] = found[1]
        control = cls(env)
        return control if control.manages_running_servers() else None


def _arg_of(port: int, flag: str) -> str | None:
    """An argument of the process listening on 127.0.0.1:`port`: the value glued to `flag`
    (`-Dname=value`) or following it (`-D value`)."""
    try:
        listing = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=10
        ).stdout
        pid = re.search(r"pid=(\d+)", listing)
        if pid is None:
            return None
        args = Path(f"/proc/{pid[1]}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, subprocess.SubprocessError):
        return None
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
        if flag.endswith("=") and arg.startswith(flag):
            return arg.removeprefix(flag)
    return None


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    database_url: str
    control: LocalInfra | None
    # The local infra's secrets (a password per Kafka principal and database role): workers
    # then run as themselves. None: servers without authentication (testcontainers).
    secrets: Path | None = None

    def identity(self, service: str) -> dict[str, str]:
        """The environment of a process running as `service` (its principal and role)."""
        return identity_env(self.secrets, service)

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
    database = database_url_from_env(os.environ)
    if kafka and database:
        secrets = os.environ.get("SALESFLOW_SECRETS_DIR")
        return Endpoints(
            kafka, database, LocalInfra.serving(kafka, database), Path(secrets) if secrets else None
        ), []
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415 - testcontainers is loaded only when a Docker engine answers
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415 - testcontainers is loaded only when a Docker engine answers

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
    # The clients of this process (probes, readers, the CLI run in it) find the security
    # settings in the environment, as a shell that sourced .local/salesflow.env would.
    os.environ.update(values)
    database = database_url_from_env(values)
    assert database is not None
    return (
        Endpoints(
            values["SALESFLOW_KAFKA_BOOTSTRAP"],
            database,
            LocalInfra(),
            Path(values["SALESFLOW_SECRETS_DIR"]),
        ),
        [],
    )
