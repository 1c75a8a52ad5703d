"""Network faults between the workers and their servers, through a real TCP fault proxy.

The harness runs toxiproxy (`scripts/toxiproxy.sh` builds it on first use) on loopback with one
proxy per Kafka node and one for PostgreSQL, and gives the workers it starts the proxied
addresses; its own clients (the load, the checker) keep the direct ones, so a fault cuts the
workers off while the load goes on. Kafka clients talk to the address a broker advertises, so
each node has a PROXIED listener advertising the proxy's port (infra/kafka.sh): every fetch and
produce of a worker, not only its bootstrap, goes through the proxy. SASL/SCRAM runs end to end
through it, as on the direct listener.

A fault is a toxic for a while (added latency, a bandwidth limit, every connection reset) or a
cut: no byte gets through in either direction, connections stay open and hang, as a network
partition looks from both ends, until the toxics are removed. That the workers' traffic goes
through the proxy is checked, not assumed: before each fault the kernel's table of the workers'
TCP connections must show some to the proxy and none to a server's own port, and a cut must
stall the workers (the fault fails if any relay published during it). toxiproxy's byte counters
count a connection only when it closes, so they are reported at the end of the run, not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog

from chaos.fleet import DIE_WITH_PARENT
from chaos.infra import REPO, Endpoints, SetupError
from chaos.schedule import NET_KINDS, net_target

if TYPE_CHECKING:
    from chaos.faults import Applied, FaultContext
    from chaos.infra import InfraControl
    from chaos.schedule import Fault

log = structlog.stdlib.get_logger("chaos.netfaults")
START_WAIT_S = 20.0
# A cut must leave the workers silent; what they published just before it can still be on its
# way to the driver for a moment (a relay's batch in flight, the driver's own fetch).
CUT_GRACE_S = 3
POSTGRES = "postgres"


@dataclass(frozen=True)
class Route:
    name: str  # kafka-<node> or postgres
    listen: str  # host:port the proxy listens on
    upstream: str  # host:port it forwards to


@dataclass(frozen=True)
class ProxyPlan:
    """Where the proxy runs and what it forwards, as `infra/kafka.sh proxied` prints it."""

    api: str
    routes: tuple[Route, ...]

    @classmethod
    def parse(cls, text: str) -> ProxyPlan:
        api = ""
        routes: list[Route] = []
        kafka_nodes = 0
        for line in text.splitlines():
            words = line.split()
            if not words:
                continue
            if words[0] == "api" and len(words) == 2:
                api = words[1]
            elif words[0] == POSTGRES and len(words) == 3:
                routes.append(Route(POSTGRES, words[1], words[2]))
            elif len(words) == 2:
                kafka_nodes += 1
                routes.append(Route(f"kafka-{kafka_nodes}", words[0], words[1]))
            else:
                raise SetupError(f"infra/kafka.sh proxied: unexpected line {line!r}")
        if not api or not kafka_nodes or not any(r.name == POSTGRES for r in routes):
            raise SetupError(f"infra/kafka.sh proxied printed no complete plan: {text!r}")
        return cls(api, tuple(routes))

    def routing(self, ports: Counter[int], servers: Endpoints) -> tuple[int, int, str | None]:
        """(connections to the proxy, to the servers directly, why that is wrong or None);
        `servers`: the direct endpoints (the harness's own)."""

        def port(address: str) -> int:
            return int(address.rsplit(":", 1)[1])

        bypass = {port(r.upstream) for r in self.routes}
        bypass |= {port(a) for a in servers.kafka.split(",")} | {servers.database_port}
        proxied = sum(ports[port(r.listen)] for r in self.routes)
        direct = sum(ports[p] for p in bypass)
        if direct:
            return proxied, direct, f"{direct} connections bypass the proxy"
        if not proxied:
            return proxied, direct, "no connection through the proxy"
        return proxied, direct, None

    def kafka_routes(self) -> list[Route]:
        return [r for r in self.routes if r.name != POSTGRES]

    def proxied(self, endpoints: Endpoints) -> Endpoints:
        """The endpoints the workers get: every Kafka node and PostgreSQL through the proxy."""
        pg = next(r for r in self.routes if r.name == POSTGRES)
        url = urlsplit(endpoints.database_url)
        if url.port != int(pg.upstream.rsplit(":", 1)[1]):
            raise SetupError(
                f"the database URL's port {url.port} is not the one infra/postgres.sh runs "
                f"({pg.upstream}): the proxy would forward elsewhere"
            )
        netloc = url.netloc.rsplit("@", 1)
        host = pg.listen
        netloc[-1] = host
        database_url = urlunsplit(url._replace(netloc="@".join(netloc)))
        kafka = ",".join(r.listen for r in self.kafka_routes())
        return Endpoints(kafka, database_url, endpoints.replication_factor)


def toxics_for(kind: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The toxics one network fault adds to its proxies (pure: the schedule's parameters in)."""
    effect = kind.split("_", 1)[1]
    if effect == "latency":
        latency = int(params["latency_ms"])
        # both ways: a request waits, and so does its answer
        return [
            {
                "name": f"latency_{stream}",
                "type": "latency",
                "stream": stream,
                "attributes": {"latency": latency // 2, "jitter": latency // 8},
            }
            for stream in ("upstream", "downstream")
        ]
    if effect == "bandwidth":
        rate = int(params["rate_kb_s"])
        return [
            {
                "name": f"bandwidth_{stream}",
                "type": "bandwidth",
                "stream": stream,
                "attributes": {"rate": rate},
            }
            for stream in ("upstream", "downstream")
        ]
    if effect == "reset":
        # every connection, open or new, is reset (TCP RST) after `timeout_ms` of life
        return [
            {
                "name": "reset_peer",
                "type": "reset_peer",
                "stream": "downstream",
                "attributes": {"timeout": int(params["reset_after_ms"])},
            }
        ]
    if effect == "cut":
        # timeout 0: no data in either direction and the connection is never closed: a
        # partition, not a refusal (a refused connection would be the easy case)
        return [
            {
                "name": f"cut_{stream}",
                "type": "timeout",
                "stream": stream,
                "attributes": {"timeout": 0},
            }
            for stream in ("upstream", "downstream")
        ]
    raise ValueError(f"not a network fault: {kind}")


def parse_tcp_table(text: str) -> dict[int, int]:
    """socket inode -> remote port of every established connection in /proc/net/tcp."""
    remote: dict[int, int] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[3] == "01":  # 01: ESTABLISHED
            remote[int(fields[9])] = int(fields[2].rsplit(":", 1)[1], 16)
    return remote


def connections_of(pids: Sequence[int]) -> Counter[int]:
    """How many established TCP connections the processes hold, by remote port (Linux /proc:
    what the process really connected to, whatever its configuration says)."""
    remote = parse_tcp_table(Path("/proc/net/tcp").read_text())
    ports: Counter[int] = Counter()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = fd.readlink().name
                    if target.startswith("socket:["):
                        port = remote.get(int(target[8:-1]))
                        if port is not None:
                            ports[port] += 1
    return ports


def parse_proxy_bytes(body: str) -> dict[str, float]:
    """proxy name -> bytes it received from either side, from toxiproxy's /metrics (counted when
    a connection ends: a long-lived one shows nothing until then)."""
    totals: dict[str, float] = {}
    for line in body.splitlines():
        if not line.startswith("toxiproxy_proxy_received_bytes_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        name = labels.split('proxy="', 1)[1].split('"', 1)[0] if 'proxy="' in labels else ""
        totals[name] = totals.get(name, 0.0) + float(value)
    return totals


class FaultProxy:
    """toxiproxy-server on loopback, started and stopped by the harness; driven by its HTTP API."""

    def __init__(self, plan: ProxyPlan, log_path: Path, seed: int) -> None:
        self.plan = plan
        self._seed = seed
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._http = httpx.AsyncClient(base_url=f"http://{plan.api}", timeout=10.0)

    @classmethod
    async def plan_for(cls, control: InfraControl | None) -> ProxyPlan:
        if control is None:
            raise SetupError("network faults need the infra scripts (infra/kafka.sh proxied)")
        return ProxyPlan.parse(await asyncio.to_thread(control.proxied))

    async def start(self) -> None:
        binary = await asyncio.to_thread(_toxiproxy_binary)
        self._proc = self._spawn(binary)
        deadline = asyncio.get_running_loop().time() + START_WAIT_S
        while True:
            if self._proc.poll() is not None:
                raise SetupError(f"toxiproxy exited {self._proc.returncode} (see {self._log_path})")
            with contextlib.suppress(httpx.HTTPError):
                if (await self._http.get("/version")).status_code == 200:
                    break
            if asyncio.get_running_loop().time() > deadline:
                raise SetupError(f"toxiproxy's API {self.plan.api} not up in {START_WAIT_S}s")
            await asyncio.sleep(0.2)
        for route in self.plan.routes:
            answer = await self._http.post(
                "/proxies",
                json={"name": route.name, "listen": route.listen, "upstream": route.upstream},
            )
            if answer.status_code not in (200, 201):
                raise SetupError(f"toxiproxy refused proxy {route}: {answer.text[:300]}")
        log.info("fault_proxy_up", api=self.plan.api, routes=[r.listen for r in self.plan.routes])

    def _spawn(self, binary: str) -> subprocess.Popen[bytes]:
        host, port = self.plan.api.rsplit(":", 1)
        # the run's seed: a toxic's random part (jitter) replays with it
        command = [*DIE_WITH_PARENT, binary, "-host", host, "-port", port, "-proxy-metrics"]
        command += ["-seed", str(self._seed)]
        with self._log_path.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - the binary our script built
                command, stdout=out, stderr=subprocess.STDOUT
            )

    async def stop(self) -> None:
        await self._http.aclose()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                await asyncio.to_thread(self._proc.wait, 10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    async def add(self, proxy: str, toxic: dict[str, Any]) -> None:
        answer = await self._http.post(f"/proxies/{proxy}/toxics", json=toxic)
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"toxiproxy refused {toxic} on {proxy}: {answer.text[:300]}")

    async def clear(self, proxies: Sequence[str]) -> None:
        """Remove every toxic of `proxies` (whatever a fault added, even one that failed)."""
        for proxy in proxies:
            listed = await self._http.get(f"/proxies/{proxy}/toxics")
            for toxic in listed.json():
                await self._http.delete(f"/proxies/{proxy}/toxics/{toxic['name']}")

    async def received_bytes(self) -> dict[str, float]:
        return parse_proxy_bytes((await self._http.get("/metrics")).text)

    def proxies_of(self, target: str) -> list[str]:
        return [r.name for r in self.plan.routes if (r.name == POSTGRES) == (target == POSTGRES)]


def _toxiproxy_binary() -> str:
    done = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(REPO / "scripts" / "toxiproxy.sh")],  # noqa: S607 - bash from PATH, like make
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    path = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not path:
        raise SetupError(f"scripts/toxiproxy.sh failed: {done.stderr.strip()[-500:]}")
    return path


async def published(ctx: FaultContext) -> float:
    """Events every worker's relay published so far (counted after the broker's ack and the
    outbox DELETE's commit: one needs Kafka, the other PostgreSQL)."""
    await asyncio.gather(*(w.scrape() for ws in ctx.fleet.live.values() for w in ws))
    return ctx.fleet.total("salesflow_outbox_published_total")


async def net_fault(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    proxy = ctx.proxy
    if proxy is None:
        raise RuntimeError("no fault proxy (the run did not ask for network faults)")
    assert fault.kind in NET_KINDS
    target = net_target(fault.kind)
    proxies = proxy.proxies_of(target)
    toxics = toxics_for(fault.kind, fault.params)
    hold_s = float(fault.params["hold_s"])
    cut = fault.kind.endswith("_cut")
    # what the workers are connected to, as the kernel sees it
    pids = [w.pid for ws in ctx.fleet.live.values() for w in ws if w.alive]
    proxied, direct, wrong = proxy.plan.routing(connections_of(pids), ctx.endpoints)
    stalled: tuple[float, float] | None = None
    try:
        for name in proxies:
            for toxic in toxics:
                await proxy.add(name, toxic)
        if cut:
            # read before the toxics go: what a worker had in hand when the cut began may still
            # complete in its first moments
            await asyncio.sleep(min(CUT_GRACE_S, hold_s / 2))
            first = await published(ctx)
            await asyncio.sleep(max(0.0, hold_s - min(CUT_GRACE_S, hold_s / 2)))
            stalled = (first, await published(ctx))
        else:
            await asyncio.sleep(hold_s)
    finally:
        await proxy.clear(proxies)
    applied.healed_s = ctx.now()
    what = ", ".join(f"{t['type']} {t['stream']} {t['attributes']}" for t in toxics)
    applied.detail = (
        f"{target} behind {len(proxies)} proxies: {what} for {hold_s}s; the {len(pids)} "
        f"workers held {proxied} connections through the proxy and {direct} direct"
    )
    if wrong:
        applied.ok = False
        applied.detail += f" ({wrong})"
    if stalled is not None:
        moved = stalled[1] - stalled[0]
        applied.detail += f"; the workers published {moved:.0f} events during the cut"
        if moved > 0:
            applied.ok = False
            applied.detail += " (the cut did not stall them: traffic bypasses the proxy)"
