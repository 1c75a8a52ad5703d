"""The seeded fault schedule: which fault, on which worker, with which parameters, when.

`build_schedule(seed, duration, kinds)` is a pure function of its arguments, so a seed names a
run: every kind asked for is applied at least once (in a seeded order), then kinds are drawn at
random until the duration is used up. Faults run one at a time, each followed by a recovery
window in which the harness measures how fast progress and throughput come back; with `overlap`
among the scenarios, some faults start while the one before is still active (drawn from a stream
of their own, so the kinds and parameters of a seed stay those of the run without it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from contracts.stages import STAGE_NAMES

# kind -> what it does (the report prints these)
KINDS: dict[str, str] = {
    "kill": "SIGKILL a worker at a random moment, restart it",
    "crash_in_transaction": "worker SIGKILLs itself inside the DB transaction (crash point)",
    "crash_after_db_commit": "worker SIGKILLs itself after the DB commit, before the offset commit",
    "crash_relay_after_ack": "relay SIGKILLs its process after the broker ack, before the DELETE",
    "zombie": "SIGSTOP one of two members past the session timeout, then SIGCONT",
    "kafka_restart": "Kafka broker clean stop (SIGTERM) and start",
    "kafka_kill": "Kafka broker SIGKILL and start",
    "pg_restart": "PostgreSQL immediate stop and start",
    "scale": "scale a worker 1 -> 3 -> 1 under load (n -> n+2 -> n with --members n)",
    "stop_drain": "stop a worker (SIGTERM) for 30-60 s under load, then restart it to drain",
    "duplicates": "re-publish a share of already published records with the same event ids",
    "reset_group": "reset a consumer group to the earliest offsets (replay everything)",
    "poison": "publish every kind of poison message and business-invalid commands",
    "leader_kill": "SIGKILL the broker leading a partition of the busiest topic, restart it",
    "controller_kill": "SIGKILL the broker that is the active KRaft controller, restart it",
    "follower_pause": "SIGSTOP a follower of a busy partition until it leaves the ISR, SIGCONT",
    # through the TCP fault proxy (chaos/netfaults.py), the workers' links only
    "kafka_latency": "add 100-400 ms round trip between the workers and Kafka for 15-30 s",
    "kafka_bandwidth": "limit each worker-Kafka connection to 16-128 KB/s each way for 15-30 s",
    "kafka_reset": "reset (TCP RST) every worker-Kafka connection, open or new, for 3-8 s",
    "kafka_cut": "cut the workers off Kafka (no byte passes, connections hang) for 5-20 s",
    "pg_latency": "add 20-100 ms round trip between the workers and PostgreSQL for 15-30 s",
    "pg_bandwidth": "limit each worker-PostgreSQL connection to 16-128 KB/s each way for 15-30 s",
    "pg_reset": "reset (TCP RST) every worker-PostgreSQL connection, open or new, for 3-8 s",
    "pg_cut": "cut the workers off PostgreSQL (no byte passes, connections hang) for 5-20 s",
    "clock_skew": "restart a worker with its clock 2-6 h ahead or behind (libfaketime) for good",
}
# Not a fault: a scenario name that lets the schedule start a fault while the previous one is
# still active (`python -m chaos --scenarios all` includes it).
OVERLAP = "overlap"
OVERLAP_HELP = "let some faults start 1-3 s after the previous one, while it is still active"
OVERLAP_SHARE = 0.35  # of the faults that may overlap the one before, how many do
INFRA_KINDS = frozenset({"kafka_restart", "kafka_kill", "pg_restart"})
# Faults on one broker of a replicated cluster (SALESFLOW_KAFKA_BROKERS=3): on a single node
# they would be a whole-Kafka outage, which kafka_kill already is.
CLUSTER_KINDS = frozenset({"leader_kill", "controller_kill", "follower_pause"})
NET_KINDS = frozenset(
    f"{target}_{effect}"
    for target in ("kafka", "pg")
    for effect in ("latency", "bandwidth", "reset", "cut")
)
# Faults over in a moment: nothing is active for a second fault to overlap.
INSTANT_KINDS = frozenset({"duplicates", "poison"})
CRASH_POINTS = {
    "crash_in_transaction": "in_transaction",
    "crash_after_db_commit": "after_db_commit",
    "crash_relay_after_ack": "relay_after_ack",
}
# Kinds whose effect on dedupe must be visible: after any of them, the workers' duplicate
# counter must be above zero, or the run did not exercise the inbox.
DEDUPE_KINDS = frozenset(
    {"crash_after_db_commit", "crash_relay_after_ack", "duplicates", "reset_group"}
)
# Rough time each fault keeps the harness busy (s), used only to fit the schedule in the duration.
_BUSY_S = {
    "kill": 8,
    "crash_in_transaction": 15,
    "crash_after_db_commit": 15,
    "crash_relay_after_ack": 15,
    "zombie": 30,
    "kafka_restart": 20,
    "kafka_kill": 20,
    "pg_restart": 15,
    "scale": 35,
    "stop_drain": 45,
    "duplicates": 3,
    "reset_group": 15,
    "poison": 3,
    "leader_kill": 30,
    "controller_kill": 40,
    "follower_pause": 35,
    "kafka_latency": 30,
    "kafka_bandwidth": 30,
    "kafka_reset": 8,
    "kafka_cut": 20,
    "pg_latency": 30,
    "pg_bandwidth": 30,
    "pg_reset": 8,
    "pg_cut": 20,
    "clock_skew": 15,
}
# Presets for --scenarios
PRESETS: dict[str, tuple[str, ...]] = {
    # every kind either broker mode runs, and overlapping faults; a cluster adds `cluster`
    "all": (*(k for k in KINDS if k not in CLUSTER_KINDS), OVERLAP),
    "cluster": tuple(k for k in KINDS if k in CLUSTER_KINDS),
    "network": tuple(sorted(NET_KINDS)),
    "ci": (
        "crash_in_transaction",
        "crash_after_db_commit",
        "crash_relay_after_ack",
        "kill",
        "pg_restart",
        "duplicates",
        "poison",
    ),
}


@dataclass(frozen=True)
class Fault:
    index: int
    at_s: float  # planned start, seconds after the load started
    kind: str
    stage: str | None
    params: dict[str, Any] = field(default_factory=dict)
    # the fault this one starts during (`params["overlap_after_s"]` after that one started)
    overlaps: int | None = None

    def describe(self) -> str:
        where = f" on {self.stage}" if self.stage else ""
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        during = f" during #{self.overlaps}" if self.overlaps is not None else ""
        return f"#{self.index} {self.kind}{where}" + (f" ({detail})" if detail else "") + during


def net_target(kind: str) -> str:
    """What a network fault cuts the workers off from: kafka or postgres."""
    return "postgres" if kind.startswith("pg_") else "kafka"


def resources(kind: str, stage: str | None) -> frozenset[str]:
    """What a fault holds while active; two faults overlap only when they hold nothing in
    common (two faults on one worker, or on Kafka twice, would undo each other's work)."""
    if kind in INFRA_KINDS or kind in NET_KINDS:
        return frozenset({"postgres" if kind.startswith("pg_") else "kafka"})
    if kind in CLUSTER_KINDS:
        return frozenset({"kafka"})
    return frozenset({f"worker:{stage}"} if stage else ())


def may_overlap(first: Fault, kind: str, stage: str | None) -> bool:
    return (
        first.overlaps is None
        and first.kind not in INSTANT_KINDS
        and not resources(first.kind, first.stage) & resources(kind, stage)
    )


def expand(scenarios: list[str]) -> list[str]:
    kinds: list[str] = []
    for name in scenarios:
        for kind in PRESETS.get(name, (name,)):
            if kind not in KINDS and kind != OVERLAP:
                known = ", ".join([*PRESETS, *KINDS, OVERLAP])
                raise ValueError(f"unknown scenario {kind!r}; known: {known}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def _net_params(kind: str, rng: random.Random) -> dict[str, Any]:
    effect = kind.split("_", 1)[1]
    params: dict[str, Any] = {}
    if effect == "latency":
        low, high = (100, 400) if kind.startswith("kafka") else (20, 100)
        params["latency_ms"] = rng.randint(low, high)
    elif effect == "bandwidth":
        params["rate_kb_s"] = rng.choice((16, 32, 64, 128))
    elif effect == "reset":
        params["reset_after_ms"] = rng.randint(0, 500)
    if effect == "reset":
        params["hold_s"] = round(rng.uniform(3.0, 8.0), 1)
    elif effect == "cut":
        params["hold_s"] = round(rng.uniform(5.0, 20.0), 1)
    else:
        params["hold_s"] = round(rng.uniform(15.0, 30.0), 1)
    return params


def _params(kind: str, rng: random.Random) -> tuple[str | None, dict[str, Any]]:
    stage: str | None = rng.choice(STAGE_NAMES)
    params: dict[str, Any] = {}
    if kind == "kill":
        params["restart_after_s"] = round(rng.uniform(0.0, 3.0), 1)
    elif kind in CRASH_POINTS:
        params["point"] = CRASH_POINTS[kind]
        params["after"] = rng.randint(2, 5)
    elif kind == "zombie":
        params["stopped_s"] = round(rng.uniform(1.5, 2.5) * 6.0, 1)
    elif kind in INFRA_KINDS:
        stage = None
        params["down_s"] = round(rng.uniform(3.0, 10.0), 1)
    elif kind in CLUSTER_KINDS:
        stage = None
        # which partition of the busiest topic (an index into its sorted partitions)
        params["partition_pick"] = rng.randrange(1000)
        if kind != "follower_pause":  # a paused follower is resumed once out of the ISR
            params["down_s"] = round(rng.uniform(3.0, 10.0), 1)
    elif kind == "scale":
        params["hold_s"] = round(rng.uniform(10.0, 20.0), 1)
    elif kind == "stop_drain":
        params["stopped_s"] = round(rng.uniform(30.0, 60.0), 1)
    elif kind == "duplicates":
        stage = None
        params["share"] = 0.05
    elif kind == "poison":
        stage = None
    elif kind in NET_KINDS:
        stage = None
        params.update(_net_params(kind, rng))
    elif kind == "clock_skew":
        hours = rng.uniform(2.0, 6.0) * rng.choice((1, -1))
        params["skew_s"] = round(hours * 3600)
    return stage, params


def build_schedule(
    seed: int,
    duration_s: float,
    kinds: list[str],
    *,
    warmup_s: float = 20.0,
    recovery_window_s: float = 20.0,
) -> list[Fault]:
    """Faults planned in [warmup_s, duration_s - recovery_window_s], one after the other, or
    (with `overlap` among `kinds`) some started during the one before."""
    overlap = OVERLAP in kinds
    kinds = [k for k in kinds if k != OVERLAP]
    rng = random.Random(seed)
    overlaps = random.Random(f"{seed}:overlap")
    faults: list[Fault] = []
    first_pass = list(kinds)
    rng.shuffle(first_pass)
    t = warmup_s
    while kinds:
        kind = first_pass.pop(0) if first_pass else rng.choice(kinds)
        busy = _BUSY_S[kind]
        if t + busy + recovery_window_s > duration_s:
            break
        stage, params = _params(kind, rng)
        # drawn whether or not this one overlaps: the main stream's draws stay those of the
        # same seed without `overlap`
        spacing = recovery_window_s * rng.uniform(1.0, 1.3)
        before = faults[-1] if faults else None
        if (
            overlap
            and before is not None
            and may_overlap(before, kind, stage)
            and overlaps.random() < OVERLAP_SHARE
        ):
            after_s = round(overlaps.uniform(1.0, 3.0), 1)
            at = before.at_s + after_s
            faults.append(
                Fault(
                    len(faults) + 1,
                    round(at, 1),
                    kind,
                    stage,
                    {**params, "overlap_after_s": after_s},
                    overlaps=before.index,
                )
            )
            t = max(t, at + busy + spacing)
            continue
        faults.append(Fault(len(faults) + 1, round(t, 1), kind, stage, params))
        t += busy + spacing
    return faults


def minimum_duration(
    kinds: list[str], *, warmup_s: float = 20.0, recovery_window_s: float = 20.0
) -> float:
    """The shortest duration that fits each kind once (at the longest spacing)."""
    return warmup_s + sum(_BUSY_S[k] + recovery_window_s * 1.3 for k in kinds if k != OVERLAP) + 1.0
