"""`salesflow gateway` as a child process for the tests, and signing its webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from shared.local_secrets import identity_env
from tests.support.infra import REPO, Endpoints
from tests.support.workers import free_port

WEB_KEY = "test-key-web-forms"
ERP_SECRET = "test-secret-erp"
CLIENTS = [
    {
        "principal": "web-forms",
        "api_key": WEB_KEY,
        "event_types": ["lead.*"],
        "reads": ["trace", "receivables"],
    },
    # Only the key's digest in the configuration: the secret stays with the client.
    {
        "principal": "reader",
        "api_key_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "event_types": [],
        "reads": ["trace"],
    },
    {
        "principal": "erp",
        "webhook_secret": ERP_SECRET,
        "event_types": ["lead.captured", "invoice.*"],
    },
]
READER_KEY = "test"  # sha256("test") is the digest above


class GatewayProcess:
    def __init__(self, endpoints: Endpoints, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._env = {
            **os.environ,
            "SALESFLOW_KAFKA_BOOTSTRAP": endpoints.kafka,
            "SALESFLOW_DATABASE_URL": endpoints.database_url,
            "SALESFLOW_GATEWAY_PORT": str(self.port),
            "SALESFLOW_GATEWAY_CLIENTS": orjson.dumps(CLIENTS).decode(),
            "SALESFLOW_LOG_JSON": "true",
            "SALESFLOW_RELAY_POLL_INTERVAL_S": "0.2",
            # its own Kafka principal and database role, as a deployment runs it
            **identity_env(endpoints.secrets, "gateway"),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GatewayProcess:
        executable = Path(sys.executable).parent / "salesflow"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(executable), "gateway"],
                env=self._env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"gateway exited early: {self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError(f"gateway not ready in {timeout_s}s: {self.tail()}")

    async def wait_exit(self, timeout_s: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"gateway still running after {timeout_s}s"
            await asyncio.sleep(0.1)
        return int(self.proc.returncode)

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
