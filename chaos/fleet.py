"""The workers as separate processes: start, signal, scale, and read their counters.

Each process is `salesflow worker <stage>` with its own health port and log file. Counters are
scraped from `/metrics` every second and the last value seen of every process (dead ones
included) is kept, so a total over the run survives kills and restarts: a SIGKILLed process
loses at most its last second of increments, which makes every total a lower bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaos.infra import REPO, Endpoints
from contracts.stages import STAGE_NAMES
from contracts.stages import stage as stage_named
from shared.local_secrets import identity_env

COUNTERS = (
    "salesflow_messages_processed_total",
    "salesflow_commands_rejected_total",
    "salesflow_messages_dead_lettered_total",
    "salesflow_duplicates_dropped_total",
    "salesflow_transient_errors_total",
    "salesflow_outbox_published_total",
)
# Short sessions so a dead or frozen member leaves the group within seconds (the harness measures
# recovery in seconds); the same values the integration tests use.
WORKER_ENV = {
    "SALESFLOW_LOG_JSON": "true",
    "SALESFLOW_SESSION_TIMEOUT_MS": "6000",
    "SALESFLOW_HEARTBEAT_INTERVAL_MS": "1000",
    "SALESFLOW_BATCH_TIMEOUT_MS": "20",
}
SESSION_TIMEOUT_S = 6.0
# A worker must not outlive the harness, even one killed outright (a CI timeout): Linux sends it
# SIGKILL when the harness dies. setpriv (util-linux) sets that and execs the worker.
_SETPRIV = shutil.which("setpriv")
DIE_WITH_PARENT = [_SETPRIV, "--pdeathsig", "KILL"] if _SETPRIV else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def http_get(port: int, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
    """A tiny HTTP/1.0 GET (no client library in the loop, no thread per scrape)."""
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


def parse_counters(body: bytes) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in COUNTERS:
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


@dataclass
class WorkerProcess:
    stage: str
    serial: int
    log_path: Path
    env: dict[str, str]
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    stopped: bool = False  # SIGSTOPped: do not scrape
    counters: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.stage}#{self.serial}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> WorkerProcess:
        executable = Path(sys.executable).parent / "salesflow"
        command = [*DIE_WITH_PARENT, str(executable), "worker", self.stage]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
                command,
                env={**self.env, "SALESFLOW_HEALTH_PORT": str(self.port)},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: signal.Signals) -> None:
        if self.alive:
            os.kill(self.pid, sig)
        self.stopped = sig == signal.SIGSTOP or (self.stopped and sig != signal.SIGCONT)

    async def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited early: {self.tail()}")
            with contextlib.suppress(OSError, TimeoutError, ValueError, IndexError):
                if (await http_get(self.port, "/readyz"))[0] == 200:
                    return
            await asyncio.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready within {timeout_s}s: {self.tail()}")

    async def wait_exit(self, timeout_s: float) -> int | None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self.proc.wait, timeout_s)
        return None if self.proc is None else self.proc.poll()

    async def scrape(self) -> None:
        if not self.alive or self.stopped:
            return
        with contextlib.suppress(OSError, TimeoutError, ValueError, IndexError):
            status, body = await http_get(self.port, "/metrics", timeout_s=3.0)
            if status == 200:
                self.counters = parse_counters(body)

    async def terminate(self, timeout_s: float = 40.0) -> int | None:
        """SIGTERM (the worker drains its batch and outbox) and wait; SIGKILL past the timeout."""
        if self.stopped:
            self.send(signal.SIGCONT)
        await self.scrape()
        if self.alive:
            self.send(signal.SIGTERM)
            if await self.wait_exit(timeout_s) is None:
                self.kill()
        return None if self.proc is None else self.proc.wait(timeout=10)

    def kill(self) -> None:
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            assert self.proc is not None
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Fleet:
    """Every worker process of the run, by stage; the retired ones are kept for their counters."""

    def __init__(self, endpoints: Endpoints, log_dir: Path, env: Mapping[str, str]) -> None:
        self._log_dir = log_dir
        base = {k: v for k, v in env.items() if not k.startswith("SALESFLOW_CRASH_")}
        self._env = {
            **base,
            **WORKER_ENV,
            # The run's mode (`--invoice-mode`), which the load and the checker follow too.
            "SALESFLOW_INVOICE_MODE": env.get("SALESFLOW_INVOICE_MODE", "native"),
            "SALESFLOW_KAFKA_BOOTSTRAP": endpoints.kafka,
            "SALESFLOW_DATABASE_URL": endpoints.database_url,
        }
        self._secrets = env.get("SALESFLOW_SECRETS_DIR")
        # per stage, what every later process of it runs with (a host clock a fault set wrong)
        self.stage_env: dict[str, dict[str, str]] = {}
        self._serial = 0
        self.live: dict[str, list[WorkerProcess]] = {name: [] for name in STAGE_NAMES}
        self.every: list[WorkerProcess] = []

    def launch(self, stage: str, **env: str) -> WorkerProcess:
        self._serial += 1
        worker = WorkerProcess(
            stage,
            self._serial,
            self._log_dir / f"{stage}-{self._serial:03d}.log",
            # each worker as its own Kafka principal and database role, as deployed
            {
                **self._env,
                **identity_env(self._secrets, stage_named(stage).service),
                **self.stage_env.get(stage, {}),
                **env,
            },
        ).start()
        self.live[stage].append(worker)
        self.every.append(worker)
        return worker

    async def start(
        self, stage: str, *, ready_timeout_s: float = 90.0, **env: str
    ) -> WorkerProcess:
        worker = self.launch(stage, **env)
        await worker.wait_ready(ready_timeout_s)
        return worker

    def forget(self, worker: WorkerProcess) -> None:
        if worker in self.live[worker.stage]:
            self.live[worker.stage].remove(worker)

    async def retire(self, worker: WorkerProcess) -> int | None:
        self.forget(worker)
        return await worker.terminate()

    async def scrape_forever(self, every_s: float = 1.0) -> None:
        while True:
            await asyncio.gather(*(w.scrape() for ws in self.live.values() for w in ws))
            await asyncio.sleep(every_s)

    def total(self, counter: str, stage: str | None = None) -> float:
        return sum(w.counters.get(counter, 0.0) for w in self.every if stage in (None, w.stage))

    def totals(self) -> dict[str, float]:
        return {name: self.total(name) for name in COUNTERS}

    async def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        workers = [w for ws in self.live.values() for w in ws]
        results = await asyncio.gather(*(self.retire(w) for w in workers))
        for worker, code in zip(workers, results, strict=True):
            codes[worker.name] = code
        return codes

    def kill_all(self) -> None:
        """Last resort on the way out: nothing the harness started may outlive it."""
        for worker in self.every:
            if worker.stopped:
                with contextlib.suppress(OSError):
                    worker.send(signal.SIGCONT)
            with contextlib.suppress(Exception):
                worker.kill()
