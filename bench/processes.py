"""Child processes of the benchmark: the workers and the baseline pass-through.

Every child runs in its own session (a Ctrl-C on the terminal reaches only the benchmark, which
then stops its children in order), asks the kernel to SIGTERM it if the benchmark dies without
cleaning up (PR_SET_PDEATHSIG), and is registered with a `Children` supervisor whose `close()`
stops whatever is still running: SIGTERM, a bounded wait, then SIGKILL. Nothing is left behind
on success, on failure, on Ctrl-C or when the benchmark itself is killed.
"""

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.stages import stage as stage_named
from shared.local_secrets import identity_env

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Sets PR_SET_PDEATHSIG (1) to SIGTERM, then execs the real command in the same process (the
# setting survives exec). A launcher rather than `preexec_fn`, which is unsafe once the
# benchmark has threads. Popen is always called from the event loop's thread: the death signal
# follows the thread that forked, not the process.
_LAUNCHER = (
    "import ctypes, os, sys\n"
    "try:\n    ctypes.CDLL(None).prctl(1, 15)\nexcept (OSError, AttributeError):\n    pass\n"
    "os.execv(sys.argv[1], sys.argv[1:])"
)


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a helper task and wait for it, without swallowing a cancellation of the caller
    (`suppress(CancelledError)` around the await would: a Ctrl-C arriving then was lost)."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    """One child process with its log file; knows its memory and CPU from /proc."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - argv is built by the benchmark itself
                [sys.executable, "-c", _LAUNCHER, *self.argv],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} not started")
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def memory_kb(self) -> tuple[int, int]:
        """(current RSS, peak RSS) in KiB, from /proc/<pid>/status; (0, 0) once it exited."""
        rss = hwm = 0
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0, 0
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        return rss, hwm

    def cpu_seconds(self) -> float:
        """User + system CPU time consumed so far (0.0 once it exited)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM (a worker finishes its batch and drains its outbox), then SIGKILL."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - a child's exit is not an event
                await asyncio.sleep(0.05)
        self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)


@dataclass
class WorkerChild(Child):
    """`salesflow worker <stage>` with its health endpoint on its own port."""

    port: int = 0

    def get(self, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    async def wait_ready(self, timeout_s: float = 90.0, poll_s: float = 0.05) -> float:
        """Wait for /readyz (database, broker, partitions assigned); returns the monotonic time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if (await asyncio.to_thread(self.get, "/readyz", 1.0))[0] == 200:
                    return time.monotonic()
            await asyncio.sleep(poll_s)
        raise RuntimeError(f"{self.name} not ready after {timeout_s}s:\n{self.tail()}")

    def metric(self, name: str) -> float:
        """Sum of one Prometheus metric over its label sets (0.0 if unreachable)."""
        try:
            _, body = self.get("/metrics")
        except OSError:
            return 0.0
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith((name + "{", name + " ")):
                total += float(line.rsplit(" ", 1)[1])
        return total


@dataclass
class Children:
    """Supervisor of every child the benchmark started; `close()` leaves none running."""

    repo: Path
    log_dir: Path
    base_env: dict[str, str]
    children: list[Child] = field(default_factory=list)

    def worker(self, stage: str, tag: str = "", **env: str) -> WorkerChild:
        port = free_port()
        executable = Path(sys.executable).parent / "salesflow"
        secrets = self.base_env.get("SALESFLOW_SECRETS_DIR")
        child = WorkerChild(
            name=f"{stage}_svc{tag}",
            argv=[str(executable), "worker", stage],
            env={
                **self.base_env,
                # as its own Kafka principal and database role, as deployed
                **identity_env(secrets, stage_named(stage).service),
                "SALESFLOW_HEALTH_PORT": str(port),
                "SALESFLOW_LOG_JSON": "true",
                **env,
            },
            log_path=self.log_dir / f"{stage}{tag}.log",
            cwd=self.repo,
            port=port,
        )
        self.children.append(child)
        child.start()
        return child

    def python(self, name: str, *args: str, **env: str) -> Child:
        child = Child(
            name=name,
            argv=[sys.executable, *args],
            env={**self.base_env, **env},
            log_path=self.log_dir / f"{name}.log",
            cwd=self.repo,
        )
        self.children.append(child)
        child.start()
        return child

    async def close(self, timeout_s: float = 30.0) -> None:
        running = [c for c in self.children if c.alive]
        await asyncio.gather(*(c.stop(timeout_s) for c in running), return_exceptions=True)
        self.kill_all()

    def kill_all(self) -> None:
        """Synchronous last resort (atexit, a second Ctrl-C)."""
        for child in self.children:
            child.kill()
