"""Where the servers are and how to break them: endpoints plus the repo's infra scripts.

The harness takes its endpoints from the environment (or the command line) and stops and starts
the servers only through `infra/kafka.sh` and `infra/postgres.sh` with the same environment, so
a second instance (`SALESFLOW_LOCAL_DIR`, `SALESFLOW_*_PORT`) is driven exactly like the first.
Before any infrastructure fault it checks that those scripts control the very servers behind the
endpoints; if they do not, the run fails at once rather than "passing" without the fault.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from shared.settings import database_url_from_env, replication_factor_from_env

REPO = Path(__file__).resolve().parents[1]
INFRA = REPO / "infra"


class SetupError(RuntimeError):
    """The run cannot be set up as asked (no endpoints, servers out of reach of the infra
    scripts, a duration too short for the scenarios): it fails before any load or fault."""


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    database_url: str
    replication_factor: int = 1  # of the topics the run creates (3 on a cluster)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], kafka: str | None = None, database_url: str | None = None
    ) -> Endpoints:
        kafka = kafka or env.get("SALESFLOW_KAFKA_BOOTSTRAP")
        database_url = database_url or database_url_from_env(env)
        if not kafka or not database_url:
            raise SetupError(
                "no endpoints: set SALESFLOW_KAFKA_BOOTSTRAP and SALESFLOW_DATABASE_URL "
                "(infra/up.sh prints them) or pass --kafka and --database-url"
            )
        return cls(kafka, database_url, replication_factor_from_env(env))

    @property
    def kafka_port(self) -> int:
        return int(self.kafka.split(",")[0].rsplit(":", 1)[1])

    @property
    def database_port(self) -> int:
        return urlsplit(self.database_url).port or 5432


@dataclass(frozen=True)
class InfraControl:
    """Runs `infra/<script> <action>` with the harness's environment; logs to `log_path`."""

    log_path: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def _run(self, script: str, action: str, *args: str, timeout_s: float = 180.0) -> int:
        with self.log_path.open("ab") as log:
            done = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
                ["bash", str(INFRA / script), action, *args],  # noqa: S607 - bash from PATH, like make
                cwd=REPO,
                env=dict(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        return done.returncode

    def _must(self, script: str, action: str, *args: str) -> None:
        code = self._run(script, action, *args)
        if code != 0:
            what = " ".join((action, *args))
            raise SetupError(f"infra/{script} {what} exited {code} (see {self.log_path})")

    def kafka_stop(self) -> None:
        self._must("kafka.sh", "stop")

    def kafka_kill(self) -> None:
        self._must("kafka.sh", "kill")

    def kafka_start(self) -> None:
        self._must("kafka.sh", "start")

    # One node of a cluster, by its node.id (infra/kafka.sh numbers the nodes 1..N).
    def broker_kill(self, node: int) -> None:
        self._must("kafka.sh", "kill", str(node))

    def broker_start(self, node: int) -> None:
        self._must("kafka.sh", "start", str(node))

    def broker_pause(self, node: int) -> None:
        self._must("kafka.sh", "pause", str(node))

    def broker_resume(self, node: int) -> None:
        self._must("kafka.sh", "resume", str(node))

    def active_controller(self) -> int:
        """The node.id of the active KRaft controller (the metadata quorum's leader): the
        brokers' metadata names a random broker as "controller" to clients, not this one."""
        with self.log_path.open("ab") as log:
            done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                ["bash", str(INFRA / "kafka.sh"), "controller"],  # noqa: S607 - bash from PATH, like make
                cwd=REPO,
                env=dict(self.env),
                stdout=subprocess.PIPE,
                stderr=log,
                timeout=120,
                check=False,
                text=True,
            )
        found = done.stdout.strip()
        if done.returncode != 0 or not found.isdigit():
            raise SetupError(f"infra/kafka.sh controller: {done.returncode} {found!r}")
        return int(found)

    def proxied(self) -> str:
        """What the chaos fault proxy listens on and forwards to (`infra/kafka.sh proxied`)."""
        with self.log_path.open("ab") as log:
            done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                ["bash", str(INFRA / "kafka.sh"), "proxied"],  # noqa: S607 - bash from PATH, like make
                cwd=REPO,
                env=dict(self.env),
                stdout=subprocess.PIPE,
                stderr=log,
                timeout=60,
                check=False,
                text=True,
            )
        if done.returncode != 0:
            raise SetupError(f"infra/kafka.sh proxied exited {done.returncode}")
        return done.stdout

    @property
    def brokers(self) -> int:
        """How many nodes infra/kafka.sh runs (SALESFLOW_KAFKA_BROKERS, 1 by default)."""
        return int(self.env.get("SALESFLOW_KAFKA_BROKERS") or 1)

    def postgres_stop_immediate(self) -> None:
        self._must("postgres.sh", "stop-immediate")

    def postgres_start(self) -> None:
        self._must("postgres.sh", "start")

    def verify(self, endpoints: Endpoints) -> None:
        """Raise unless the scripts run the servers behind `endpoints` (same ports, running)."""
        problems = []
        kafka_port = int(self.env.get("SALESFLOW_KAFKA_PORT", "9092"))
        pg_port = int(self.env.get("SALESFLOW_PG_PORT", "5432"))
        if kafka_port != endpoints.kafka_port:
            problems.append(
                f"infra/kafka.sh controls port {kafka_port}, the endpoints use "
                f"{endpoints.kafka_port} (set SALESFLOW_KAFKA_PORT)"
            )
        if pg_port != endpoints.database_port:
            problems.append(
                f"infra/postgres.sh controls port {pg_port}, the endpoints use "
                f"{endpoints.database_port} (set SALESFLOW_PG_PORT)"
            )
        problems.extend(
            f"infra/{script} status: not running under its control"
            for script in ("kafka.sh", "postgres.sh")
            if self._run(script, "status", timeout_s=60) != 0
        )
        if problems:
            raise SetupError("cannot inject infrastructure faults: " + "; ".join(problems))
