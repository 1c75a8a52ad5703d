"""The fault injectors: each applies one scheduled fault, heals it, and says what it did.

"Healed" is the moment the harness finished undoing the fault (the process restarted, the server
started, the group back to one member); recovery is measured from there.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka.structs import OffsetAndMetadata

from chaos import cluster_faults, netfaults, poison
from chaos.clock_skew import clock_skew
from chaos.fleet import SESSION_TIMEOUT_S, Fleet
from chaos.infra import Endpoints, InfraControl
from chaos.schedule import CRASH_POINTS, INFRA_KINDS, NET_KINDS, Fault
from contracts.stages import SERVICES, stage
from shared import kafka_clients
from shared.topic_partitions import topic_partitions
from simulator.driver import LifecycleDriver

log = structlog.stdlib.get_logger("chaos.faults")
CRASH_WAIT_S = 120.0
READY_WAIT_S = 180.0


@dataclass
class Applied:
    fault: Fault
    started_s: float
    healed_s: float = 0.0
    restart_s: float | None = None  # launch -> ready of the restarted worker(s)
    ok: bool = True
    detail: str = ""
    services: tuple[str, ...] = ()  # whose recovery is measured
    counters_before: dict[str, float] = field(default_factory=dict)
    counters_after: dict[str, float] = field(default_factory=dict)
    recovery: list[Any] = field(default_factory=list)  # recovery.Recovery, after measuring
    # from when the recovery was measured: the heal, or a later heal of a fault active with it
    measured_from_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "fault": self.fault.describe(),
            "kind": self.fault.kind,
            "stage": self.fault.stage,
            "params": self.fault.params,
            "started_s": round(self.started_s, 1),
            "healed_s": round(self.healed_s, 1),
            "measured_from_s": None
            if self.measured_from_s is None
            else round(self.measured_from_s, 1),
            "restart_s": None if self.restart_s is None else round(self.restart_s, 1),
            "overlaps": self.fault.overlaps,
            "ok": self.ok,
            "detail": self.detail,
            "duplicates_dropped_during": self.counters_after.get("dup", 0.0)
            - self.counters_before.get("dup", 0.0),
            "recovery": [r.as_dict() for r in self.recovery],
        }


@dataclass
class FaultContext:
    fleet: Fleet
    endpoints: Endpoints
    driver: LifecycleDriver
    control: InfraControl | None
    consumes: dict[str, tuple[str, ...]]
    seed: int
    run_id: str
    poison: list[poison.PoisonRecord] = field(default_factory=list)
    republished: int = 0
    members: int = 1  # processes per worker outside faults
    down: set[str] = field(default_factory=set)  # servers a fault left stopped (for cleanup)
    proxy: netfaults.FaultProxy | None = None  # between the workers and the servers

    def now(self) -> float:
        return self.driver.elapsed()


async def apply(ctx: FaultContext, fault: Fault) -> Applied:
    rng = random.Random(f"{ctx.seed}:fault:{fault.index}")
    services = (stage(fault.stage).service,) if fault.stage else SERVICES
    applied = Applied(fault, ctx.now(), services=services)
    applied.counters_before = _dup(ctx, fault.stage)
    log.info("fault_start", fault=fault.describe(), at_s=round(applied.started_s, 1))
    injector = _INJECTORS[fault.kind if fault.kind not in CRASH_POINTS else "crash"]
    try:
        await injector(ctx, fault, rng, applied)
    except Exception as error:
        applied.ok = False
        applied.detail = f"{type(error).__name__}: {error}"[:500]
        log.exception("fault_failed", fault=fault.describe())
    if not applied.healed_s:
        applied.healed_s = ctx.now()
    applied.counters_after = _dup(ctx, fault.stage)
    log.info(
        "fault_healed",
        fault=fault.describe(),
        healed_s=round(applied.healed_s, 1),
        ok=applied.ok,
        detail=applied.detail,
    )
    return applied


async def _restart(ctx: FaultContext, stage: str, applied: Applied, count: int) -> None:
    """Start `count` processes of `stage`. The fault is healed when they are ready (joined their
    group, database and broker reachable): recovery is measured from the worker being back, and
    how long the restart itself took (the interpreter starting on a busy machine) is reported."""
    launched = ctx.now()
    workers = [ctx.fleet.launch(stage) for _ in range(count)]
    await asyncio.gather(*(w.wait_ready(READY_WAIT_S) for w in workers))
    applied.healed_s = ctx.now()
    applied.restart_s = applied.healed_s - launched
    applied.detail += f"; restarted as {', '.join(w.name for w in workers)}"


def _dup(ctx: FaultContext, stage: str | None) -> dict[str, float]:
    return {"dup": ctx.fleet.total("salesflow_duplicates_dropped_total", stage)}


async def _kill(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    assert fault.stage
    victim = rng.choice(ctx.fleet.live[fault.stage])
    await victim.scrape()
    victim.kill()
    ctx.fleet.forget(victim)
    await asyncio.sleep(float(fault.params.get("restart_after_s", 0.0)))
    applied.detail = f"SIGKILLed {victim.name} (pid {victim.pid})"
    await _restart(ctx, fault.stage, applied, 1)


async def _crash(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    assert fault.stage
    point, after = str(fault.params["point"]), int(fault.params["after"])
    for worker in list(ctx.fleet.live[fault.stage]):
        await ctx.fleet.retire(worker)
    crasher = ctx.fleet.launch(
        fault.stage, SALESFLOW_CRASH_POINT=point, SALESFLOW_CRASH_AFTER=str(after)
    )
    code = await crasher.wait_exit(CRASH_WAIT_S)
    ctx.fleet.forget(crasher)
    crasher.kill()
    if code is None:
        applied.ok = False
        applied.detail = f"{crasher.name} never reached {point} in {CRASH_WAIT_S:.0f}s"
    elif code != -signal.SIGKILL:
        applied.ok = False
        applied.detail = f"{crasher.name} exited {code}, not SIGKILL at {point}: {crasher.tail(5)}"
    else:
        applied.detail = f"{crasher.name} SIGKILLed itself at {point} (pass {after})"
    await _restart(ctx, fault.stage, applied, ctx.members)


async def _zombie(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    assert fault.stage
    await ctx.fleet.start(fault.stage)
    await asyncio.sleep(4.0)  # both members assigned
    members = list(ctx.fleet.live[fault.stage])
    victim = rng.choice(members)
    stopped_s = float(fault.params.get("stopped_s", SESSION_TIMEOUT_S * 2))
    victim.send(signal.SIGSTOP)
    await asyncio.sleep(stopped_s)
    victim.send(signal.SIGCONT)
    await asyncio.sleep(6.0)  # the zombie wakes, finds itself fenced out, rejoins
    leaving = rng.choice(members)
    await ctx.fleet.retire(leaving)
    applied.healed_s = ctx.now()
    applied.detail = (
        f"SIGSTOPped {victim.name} for {stopped_s}s (session {SESSION_TIMEOUT_S}s), SIGCONT; "
        f"then {leaving.name} left"
    )


async def _infra(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    control = ctx.control
    if control is None:
        raise RuntimeError("no infrastructure control (run with the infra scripts' environment)")
    down_s = float(fault.params.get("down_s", 5.0))
    server = "postgres" if fault.kind == "pg_restart" else "kafka"
    stop = {
        "kafka_restart": control.kafka_stop,
        "kafka_kill": control.kafka_kill,
        "pg_restart": control.postgres_stop_immediate,
    }[fault.kind]
    start = control.postgres_start if server == "postgres" else control.kafka_start
    t0 = time.monotonic()
    ctx.down.add(server)
    await asyncio.to_thread(stop)
    await asyncio.sleep(down_s)
    await asyncio.to_thread(start)
    ctx.down.discard(server)
    applied.healed_s = ctx.now()
    applied.detail = f"{server} down {time.monotonic() - t0:.1f}s ({fault.kind})"


async def _scale(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    assert fault.stage
    before = len(ctx.fleet.live[fault.stage])
    extra = [ctx.fleet.launch(fault.stage) for _ in range(2)]
    await asyncio.gather(*(w.wait_ready(120) for w in extra))
    await asyncio.sleep(float(fault.params.get("hold_s", 15.0)))
    members = list(ctx.fleet.live[fault.stage])
    rng.shuffle(members)
    for worker in members[before:]:
        await ctx.fleet.retire(worker)
    applied.healed_s = ctx.now()
    kept = ", ".join(w.name for w in members[:before])
    applied.detail = f"{fault.stage}: {before} -> {len(members)} -> {before} (kept {kept})"


async def _stop_drain(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    assert fault.stage
    stopped_s = float(fault.params.get("stopped_s", 45.0))
    for worker in list(ctx.fleet.live[fault.stage]):
        await ctx.fleet.retire(worker)
    await asyncio.sleep(stopped_s)
    applied.detail = f"{fault.stage} stopped for {stopped_s}s while the load went on"
    await _restart(ctx, fault.stage, applied, ctx.members)


async def _duplicates(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    recent = list(ctx.driver.recent)
    share = float(fault.params.get("share", 0.05))
    picked = rng.sample(recent, min(len(recent), max(20, round(share * len(recent)))))
    producer = kafka_clients.producer(ctx.endpoints.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        deliveries = [
            await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
            for r in picked
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    ctx.republished += len(picked)
    applied.healed_s = ctx.now()
    topics = sorted({r.topic for r in picked})
    applied.detail = f"re-published {len(picked)} of the last {len(recent)} records on {topics}"


async def _reset_group(
    ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied
) -> None:
    assert fault.stage
    service = stage(fault.stage).service
    for worker in list(ctx.fleet.live[fault.stage]):
        await ctx.fleet.retire(worker)
    consumer = kafka_clients.consumer(
        bootstrap=ctx.endpoints.kafka, group_id=service, enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = await topic_partitions(ctx.endpoints.kafka, ctx.consumes[service])
        consumer.assign(parts)
        beginnings = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        # An empty group accepts offset commits from a consumer outside it (generation -1).
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in beginnings.items()})
    finally:
        await consumer.stop()
    replayed = sum(ends[tp] - beginnings[tp] for tp in parts)
    applied.detail = f"group {service} reset to earliest: {replayed} records to read again"
    await _restart(ctx, fault.stage, applied, ctx.members)


async def _poison(ctx: FaultContext, fault: Fault, rng: random.Random, applied: Applied) -> None:
    planned = poison.plan(ctx.run_id, fault.index, ctx.seed)
    placed = await poison.publish(ctx.endpoints.kafka, planned)
    ctx.poison.extend(placed)
    applied.healed_s = ctx.now()
    kinds = sorted({p.kind for p in placed})
    applied.detail = f"{len(placed)} poison records ({', '.join(kinds)})"


_INJECTORS: dict[str, Callable[[FaultContext, Fault, random.Random, Applied], Awaitable[None]]] = {
    "kill": _kill,
    "crash": _crash,
    "zombie": _zombie,
    **dict.fromkeys(INFRA_KINDS, _infra),
    "scale": _scale,
    "stop_drain": _stop_drain,
    "duplicates": _duplicates,
    "reset_group": _reset_group,
    "poison": _poison,
    "leader_kill": cluster_faults.leader_kill,
    "controller_kill": cluster_faults.controller_kill,
    "follower_pause": cluster_faults.follower_pause,
    **dict.fromkeys(NET_KINDS, netfaults.net_fault),
    "clock_skew": clock_skew,
}
