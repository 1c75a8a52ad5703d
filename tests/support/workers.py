"""Running workers for tests: in this process (fast) or as a real child process (crash tests)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from opentelemetry.trace import TracerProvider

from contracts.stages import stage as stage_named
from salesflow.stages import build_stage
from shared.kafka_security import KafkaSecurity
from shared.local_secrets import password_file
from shared.settings import RuntimeSettings
from shared.worker import Worker
from tests.support.infra import REPO, Endpoints


def runtime_settings(
    endpoints: Endpoints, service: str | None = None, **overrides: Any
) -> RuntimeSettings:
    """Settings of a worker in this process; `service`: as that service's own Kafka principal
    and database role (when the servers have them)."""
    identity: dict[str, Any] = {}
    if service is not None and endpoints.secrets is not None:
        identity = {
            "kafka_security": KafkaSecurity().as_principal(
                service, password_file(endpoints.secrets, "kafka", service)
            ),
            "database_user": service,
            "database_password_file": password_file(endpoints.secrets, "pg", service),
        }
    values: dict[str, Any] = {
        **identity,
        "kafka_bootstrap": endpoints.kafka,
        "database_url": endpoints.database_url,
        "health_port": 0,
        "batch_timeout_ms": 20,
        "relay_poll_interval_s": 0.05,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
    }
    values.update(overrides)
    return RuntimeSettings(**values)


@contextlib.asynccontextmanager
async def running_worker(
    endpoints: Endpoints,
    stage: str,
    *,
    settings: Any = None,
    tracer_provider: TracerProvider | None = None,
    **overrides: Any,
) -> AsyncIterator[Worker]:
    """The worker of `stage` in this process, started and assigned its partitions.

    `settings` is the service's own settings object (None: read from the environment);
    `tracer_provider`: where its spans go (None: as OTEL_* says, i.e. nowhere in tests);
    `overrides` are RuntimeSettings fields."""
    runtime = runtime_settings(endpoints, stage_named(stage).service, **overrides)
    worker = build_stage(stage, runtime, settings=settings, tracer_provider=tracer_provider)
    await worker.app.start()
    try:
        await wait_for(lambda: worker.readiness.assigned, 30, f"{stage} partitions assigned")
        yield worker
    finally:
        await worker.app.stop()


def lead_worker(endpoints: Endpoints, **overrides: Any) -> Any:
    return running_worker(endpoints, "lead", **overrides)


async def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WorkerProcess:
    """`salesflow worker <stage>` as a child process, with its health endpoint on a free port."""

    def __init__(self, stage: str, endpoints: Endpoints, log_path: Path, **env: str) -> None:
        self.stage = stage
        self.port = free_port()
        self.log_path = log_path
        self._env = {
            **os.environ,
            **endpoints.identity(stage_named(stage).service),
            "SALESFLOW_KAFKA_BOOTSTRAP": endpoints.kafka,
            "SALESFLOW_DATABASE_URL": endpoints.database_url,
            "SALESFLOW_HEALTH_PORT": str(self.port),
            "SALESFLOW_LOG_JSON": "true",
            "SALESFLOW_BATCH_TIMEOUT_MS": "20",
            "SALESFLOW_SESSION_TIMEOUT_MS": "6000",
            "SALESFLOW_HEARTBEAT_INTERVAL_MS": "1000",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        executable = Path(sys.executable).parent / "salesflow"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(executable), "worker", self.stage],
                env=self._env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.stage} worker exited early: {self.tail()}")
            with contextlib.suppress(OSError):
                if self.get("/readyz")[0] == 200:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.stage} worker not ready in {timeout_s}s: {self.tail()}")

    def metric(self, name: str) -> float:
        """Sum of a Prometheus metric's samples (all label sets)."""
        _, body = self.get("/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    async def wait_exit(self, timeout_s: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.stage} worker still running after {timeout_s}s")
            await asyncio.sleep(0.1)
        return int(self.proc.returncode)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout_s: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return int(self.proc.returncode)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
