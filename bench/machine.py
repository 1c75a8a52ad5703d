"""What the machine is and where its CPU goes while a measurement runs (Linux /proc).

Every figure of the benchmark comes with the CPU each party used during it: the workers (our
children), the load generator (this process), Kafka (the JVM running `kafka.Kafka`), PostgreSQL
(every `postgres` process) and everything else on the box. On a shared machine "everything else"
is the noise; on 2 cores it also tells whether a figure is bounded by salesflow or by its
neighbours.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def describe() -> dict[str, Any]:
    """Machine size and software, for the result file and BENCHMARKS.md."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg_at_start": list(os.getloadavg()),
    }


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _proc_cpu(pid: int, *, with_children: bool = False) -> float:
    """utime + stime (+ cutime + cstime: children it reaped, e.g. exited database backends)."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def listening_pid(port: int) -> int | None:
    """The process holding the listening TCP socket of `port` on this machine, if any."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{parts[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if str(fd.readlink()) in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def ports(bootstrap: str, database_url: str) -> tuple[int, int]:
    """The Kafka and PostgreSQL ports of the endpoints (first bootstrap server)."""
    kafka = bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)[-1]
    postgres = make_url(database_url).port or 5432
    return int(kafka) if kafka.isdigit() else 9092, int(postgres)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if len(fields) > 1 and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in first]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    machine: float
    parties: dict[str, float]


class CpuAccount:
    """CPU seconds per party between two snapshots; `workers` maps a name to a pid.

    Kafka and PostgreSQL are the processes listening on the benchmark's own ports (another
    instance on the machine counts as "other"); PostgreSQL is its postmaster with every backend,
    including those that exited (the postmaster's reaped-children time).
    """

    def __init__(
        self, workers: Mapping[str, int], *, kafka_port: int = 0, postgres_port: int = 0
    ) -> None:
        self._workers = dict(workers)
        self._kafka = listening_pid(kafka_port) if kafka_port else None
        self._postgres = listening_pid(postgres_port) if postgres_port else None

    def snapshot(self) -> CpuSnapshot:
        parties = {name: _proc_cpu(pid) for name, pid in self._workers.items()}
        if self._kafka:
            parties["kafka"] = _proc_cpu(self._kafka)
        if self._postgres:
            parties["postgres"] = _proc_cpu(self._postgres, with_children=True) + sum(
                _proc_cpu(pid) for pid in _children(self._postgres)
            )
        parties["load generator"] = time.process_time()
        return CpuSnapshot(time.monotonic(), _busy_seconds(), parties)

    @staticmethod
    def usage(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        """Cores used by each party (1.0 = one core busy), plus `other` and `machine`."""
        wall = max(after.at - before.at, 1e-9)
        used = {
            name: round((after.parties.get(name, 0.0) - before.parties.get(name, 0.0)) / wall, 2)
            for name in after.parties
        }
        machine = (after.machine - before.machine) / wall
        used["other"] = round(max(0.0, machine - sum(used.values())), 2)
        used["machine"] = round(machine, 2)
        return used
