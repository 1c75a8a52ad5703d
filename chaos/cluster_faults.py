"""Faults on one broker of a replicated cluster: the leader of a busy partition killed, the
active controller killed, a follower paused until it falls out of the in-sync replicas.

Each watches the cluster through the brokers' metadata while it acts (a new leader elected, the
ISR shrunk and grown back) and says how long each step took. A node is addressed by its
node.id, which is also the number `infra/kafka.sh` knows it by. The view of the cluster is
asked of the nodes not under the fault: a paused broker accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.topics import ALL_TOPICS
from shared import kafka_clients

if TYPE_CHECKING:
    from chaos.faults import Applied, FaultContext
    from chaos.infra import InfraControl
    from chaos.schedule import Fault

log = structlog.stdlib.get_logger("chaos.cluster_faults")
ASK_TIMEOUT_S = 10.0
ELECTION_WAIT_S = 60.0
ISR_WAIT_S = 90.0  # a restarted or resumed broker catches up and rejoins the ISR within this


@dataclass(frozen=True)
class Replicas:
    leader: int  # -1 while none is elected
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


async def _ask(bootstrap: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
    admin = kafka_clients.admin(
        bootstrap, client_id="chaos-cluster-view", request_timeout_ms=int(ASK_TIMEOUT_S * 1000)
    )
    try:
        async with asyncio.timeout(ASK_TIMEOUT_S * 2):
            await admin.start()
            return await call(admin)
    finally:
        await admin.close()


async def _nodes(bootstrap: str) -> dict[int, str]:
    """node.id -> host:port of every broker the metadata lists."""
    cluster = await _ask(bootstrap, lambda admin: admin.describe_cluster())
    return {b["node_id"]: f"{b['host']}:{b['port']}" for b in cluster["brokers"]}


async def _partitions(bootstrap: str, topic: str) -> dict[int, Replicas]:
    described = await _ask(bootstrap, lambda admin: admin.describe_topics([topic]))
    return {
        p["partition"]: Replicas(p["leader"], tuple(p["replicas"]), tuple(p["isr"]))
        for p in described[0]["partitions"]
    }


async def replication(bootstrap: str) -> dict[str, dict[str, int]]:
    """Per salesflow topic: the fewest replicas any of its partitions has, and the
    min.insync.replicas the broker applies to it (its own setting or the broker default)."""
    names = [topic.name for topic in ALL_TOPICS]
    described = await _ask(bootstrap, lambda admin: admin.describe_topics(names))
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, {"min.insync.replicas": None})
        for name in names
    ]
    configs = await _ask(bootstrap, lambda admin: admin.describe_configs(resources))
    found: dict[str, dict[str, int]] = {
        topic["topic"]: {
            "replicas": min((len(p["replicas"]) for p in topic["partitions"]), default=0)
        }
        for topic in described
        if not topic["error_code"]
    }
    for response in configs:
        for code, _message, _type, name, entries, *_ in response.resources:
            if not code and name in found:
                for entry in entries:
                    if entry[0] == "min.insync.replicas":
                        found[name]["min_insync"] = int(entry[1])
    return found


async def _poll(
    bootstrap: str, topic: str, done: Callable[[dict[int, Replicas]], bool], wait_s: float
) -> float | None:
    """Seconds until `done(view)` held (asking every half second), None if it never did."""
    started = time.monotonic()
    while time.monotonic() - started < wait_s:
        try:
            if done(await _partitions(bootstrap, topic)):
                return time.monotonic() - started
        except Exception as error:  # noqa: BLE001 - a node just killed or paused: ask again
            log.debug("cluster_view_failed", error=repr(error))
        await asyncio.sleep(0.5)
    return None


def _busiest_topic(ctx: FaultContext) -> str:
    """The topic the load sent most records to lately (the commands the driver publishes)."""
    counts = Counter(record.topic for record in ctx.driver.recent)
    return counts.most_common(1)[0][0] if counts else ALL_TOPICS[0].name


def _control(ctx: FaultContext) -> InfraControl:
    if ctx.control is None or ctx.control.brokers < 3:
        raise RuntimeError("broker faults need a cluster of 3 (SALESFLOW_KAFKA_BROKERS=3)")
    return ctx.control


def _without(nodes: dict[int, str], node: int) -> str:
    return ",".join(address for n, address in sorted(nodes.items()) if n != node)


def _secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"


async def _kill_and_restart(
    ctx: FaultContext, fault: Fault, victim: int, topic: str, partition: int, applied: Applied
) -> tuple[float | None, float]:
    """SIGKILL node `victim`, start it after `down_s`; wait until it is back in the ISR of
    `topic`-`partition`. Returns (seconds until that partition had another leader, down time)."""
    control = _control(ctx)
    nodes = await _nodes(ctx.endpoints.kafka)
    others = _without(nodes, victim)
    down_s = float(fault.params.get("down_s", 5.0))
    ctx.down.add("kafka")  # the harness starts every node again if the run is interrupted
    killed = time.monotonic()
    await asyncio.to_thread(control.broker_kill, victim)
    elected = await _poll(
        others,
        topic,
        lambda view: view[partition].leader not in (-1, victim),
        ELECTION_WAIT_S,
    )
    await asyncio.sleep(max(0.0, down_s - (time.monotonic() - killed)))
    await asyncio.to_thread(control.broker_start, victim)
    down = time.monotonic() - killed
    ctx.down.discard("kafka")
    rejoined = await _poll(
        ctx.endpoints.kafka, topic, lambda view: victim in view[partition].isr, ISR_WAIT_S
    )
    applied.healed_s = ctx.now()
    if elected is None or rejoined is None:
        applied.ok = False
    applied.detail += (
        f"; {topic}-{partition}: another leader after {_secs(elected)}; node {victim} down "
        f"{down:.1f}s, back in the ISR {_secs(rejoined)} after its start"
    )
    return elected, down


async def leader_kill(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    _control(ctx)
    topic = _busiest_topic(ctx)
    view = await _partitions(ctx.endpoints.kafka, topic)
    partition = sorted(view)[int(fault.params.get("partition_pick", 0)) % len(view)]
    leader = view[partition].leader
    applied.detail = f"SIGKILLed node {leader}, leader of {topic}-{partition}"
    await _kill_and_restart(ctx, fault, leader, topic, partition, applied)


async def controller_kill(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    control = _control(ctx)
    topic = _busiest_topic(ctx)
    view = await _partitions(ctx.endpoints.kafka, topic)
    partition = sorted(view)[int(fault.params.get("partition_pick", 0)) % len(view)]
    controller = await asyncio.to_thread(control.active_controller)
    applied.detail = f"SIGKILLed node {controller}, the active controller"
    started = time.monotonic()
    failover: list[float] = []

    async def watch_quorum() -> None:
        # the quorum's new leader, asked through the brokers (a JVM tool: a few seconds each)
        while time.monotonic() - started < ELECTION_WAIT_S:
            try:
                now_leading = await asyncio.to_thread(control.active_controller)
            except Exception:  # noqa: BLE001 - no leader yet: ask again
                now_leading = controller
            if now_leading != controller:
                failover.append(time.monotonic() - started)
                applied.detail += f"; node {now_leading} took over"
                return
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch_quorum())
    await asyncio.sleep(0.1)  # let the watcher see the old leader first
    await _kill_and_restart(ctx, fault, controller, topic, partition, applied)
    await watcher
    applied.detail += f"; a new active controller after {_secs(failover[0] if failover else None)}"
    if not failover:
        applied.ok = False


async def follower_pause(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    control = _control(ctx)
    topic = _busiest_topic(ctx)
    controller = await asyncio.to_thread(control.active_controller)
    view = await _partitions(ctx.endpoints.kafka, topic)
    # a follower in sync; not the active controller, whose pause is a controller fault too
    candidates = [
        (p, node)
        for p, replicas in sorted(view.items())
        for node in replicas.isr
        if node not in (replicas.leader, controller)
    ]
    if not candidates:
        raise RuntimeError(f"no in-sync follower of {topic} outside the controller: {view}")
    partition, follower = candidates[int(fault.params.get("partition_pick", 0)) % len(candidates)]
    others = _without(await _nodes(ctx.endpoints.kafka), follower)
    applied.detail = f"SIGSTOPped node {follower}, follower of {topic}-{partition}"
    await asyncio.to_thread(control.broker_pause, follower)
    try:
        out = await _poll(others, topic, lambda v: follower not in v[partition].isr, ISR_WAIT_S)
    finally:
        # resumed whatever happened: a node left paused would hold up the run and its cleanup
        await asyncio.to_thread(control.broker_resume, follower)
    rejoined = await _poll(
        ctx.endpoints.kafka, topic, lambda v: follower in v[partition].isr, ISR_WAIT_S
    )
    applied.healed_s = ctx.now()
    applied.detail += (
        f"; out of the ISR after {_secs(out)}, SIGCONT, back in the ISR {_secs(rejoined)} later"
    )
    if out is None or rejoined is None:
        applied.ok = False
