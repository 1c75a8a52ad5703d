"""The seeded fault schedule: which fault, on which worker, with which parameters, when.

`build_schedule(seed, duration, kinds)` is a pure function of its arguments, so a seed names a
run: every kind asked for is applied at least once (in a seeded order), then kinds are drawn at
random until the duration is used up. Faults run one at a time, each followed by a recovery
window in which the harness measures how fast progress and throughput come back.
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
}
INFRA_KINDS = frozenset({"kafka_restart", "kafka_kill", "pg_restart"})
# Faults on one broker of a replicated cluster (SALESFLOW_KAFKA_BROKERS=3): on a single node
# they would be a whole-Kafka outage, which kafka_kill already is.
CLUSTER_KINDS = frozenset({"leader_kill", "controller_kill", "follower_pause"})
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
}
# Presets for --scenarios
PRESETS: dict[str, tuple[str, ...]] = {
    # every kind either broker mode runs; a cluster adds `cluster`
    "all": tuple(k for k in KINDS if k not in CLUSTER_KINDS),
    "cluster": tuple(k for k in KINDS if k in CLUSTER_KINDS),
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

    def describe(self) -> str:
        where = f" on {self.stage}" if self.stage else ""
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"#{self.index} {self.kind}{where}" + (f" ({detail})" if detail else "")


def expand(scenarios: list[str]) -> list[str]:
    kinds: list[str] = []
    for name in scenarios:
        for kind in PRESETS.get(name, (name,)):
            if kind not in KINDS:
                known = ", ".join([*PRESETS, *KINDS])
                raise ValueError(f"unknown scenario {kind!r}; known: {known}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


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
    return stage, params


def build_schedule(
    seed: int,
    duration_s: float,
    kinds: list[str],
    *,
    warmup_s: float = 20.0,
    recovery_window_s: float = 20.0,
) -> list[Fault]:
    """Faults planned in [warmup_s, duration_s - recovery_window_s], one after the other."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    first_pass = list(kinds)
    rng.shuffle(first_pass)
    t = warmup_s
    while True:
        kind = first_pass.pop(0) if first_pass else rng.choice(kinds)
        busy = _BUSY_S[kind]
        if t + busy + recovery_window_s > duration_s:
            break
        stage, params = _params(kind, rng)
        faults.append(Fault(len(faults) + 1, round(t, 1), kind, stage, params))
        t += busy + recovery_window_s * rng.uniform(1.0, 1.3)
    return faults


def minimum_duration(
    kinds: list[str], *, warmup_s: float = 20.0, recovery_window_s: float = 20.0
) -> float:
    """The shortest duration that fits each kind once (at the longest spacing)."""
    return warmup_s + sum(_BUSY_S[k] + recovery_window_s * 1.3 for k in kinds) + 1.0
