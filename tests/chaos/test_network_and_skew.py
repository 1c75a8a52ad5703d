"""The network, clock-skew and overlap faults' pure parts: what the schedule draws, which toxics a
fault adds, where the proxy listens and forwards, what a skewed worker runs with, and how the
report tells overlaps and recovery per kind. (The faults themselves are proven by real runs:
RELIABILITY.md.)"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

from chaos.clock_skew import skewed_env
from chaos.faults import Applied
from chaos.harness import overlaps
from chaos.infra import INFRA, Endpoints, SetupError
from chaos.netfaults import ProxyPlan, parse_proxy_bytes, parse_tcp_table, toxics_for
from chaos.recovery import Recovery
from chaos.report import recovery_by_kind
from chaos.schedule import (
    INSTANT_KINDS,
    NET_KINDS,
    OVERLAP,
    Fault,
    build_schedule,
    expand,
    minimum_duration,
    resources,
)

NEW_KINDS = [*sorted(NET_KINDS), "clock_skew"]


def test_network_faults_hold_for_a_while_on_no_worker() -> None:
    faults = [f for seed in range(30) for f in build_schedule(seed, 900, NEW_KINDS)]
    net = [f for f in faults if f.kind in NET_KINDS]
    assert {f.kind for f in net} == NET_KINDS
    assert all(f.stage is None for f in net)
    for f in net:
        hold = f.params["hold_s"]
        if f.kind.endswith("_reset"):
            assert 3.0 <= hold <= 8.0 and 0 <= f.params["reset_after_ms"] <= 500
        elif f.kind.endswith("_cut"):
            assert 5.0 <= hold <= 20.0
        else:
            assert 15.0 <= hold <= 30.0
        if f.kind == "kafka_latency":
            assert 100 <= f.params["latency_ms"] <= 400
        if f.kind == "pg_latency":
            assert 20 <= f.params["latency_ms"] <= 100
        if f.kind.endswith("_bandwidth"):
            assert f.params["rate_kb_s"] in (16, 32, 64, 128)


def test_a_skewed_clock_is_hours_ahead_or_behind_on_one_worker() -> None:
    skews = [
        f
        for seed in range(30)
        for f in build_schedule(seed, 900, NEW_KINDS)
        if f.kind == "clock_skew"
    ]
    assert skews and all(f.stage is not None for f in skews)
    assert all(2 * 3600 <= abs(f.params["skew_s"]) <= 6 * 3600 for f in skews)
    assert {f.params["skew_s"] > 0 for f in skews} == {True, False}
    ahead = skewed_env("/lib/libfaketimeMT.so.1", 7200)
    behind = skewed_env("/lib/libfaketimeMT.so.1", -7200)
    assert ahead["FAKETIME"] == "+7200" and behind["FAKETIME"] == "-7200"
    # the wall clock is wrong, timers are not (as on a host whose NTP went astray)
    assert ahead["LD_PRELOAD"] == "/lib/libfaketimeMT.so.1"
    assert ahead["FAKETIME_DONT_FAKE_MONOTONIC"] == "1"


def test_the_new_kinds_are_in_all_and_the_network_preset() -> None:
    everything = expand(["all"])
    assert set(NEW_KINDS) | {OVERLAP} <= set(everything)
    assert set(expand(["network"])) == NET_KINDS
    # `overlap` is no fault: it takes no time of its own
    assert minimum_duration([*NEW_KINDS, OVERLAP]) == minimum_duration(NEW_KINDS)


def test_overlapping_faults_start_during_the_one_before_and_share_nothing_with_it() -> None:
    kinds = [*expand(["all"])]
    schedules = [build_schedule(seed, 1800, kinds) for seed in range(20)]
    overlapping = [(s[f.overlaps - 1], f) for s in schedules for f in s if f.overlaps is not None]
    assert len(overlapping) >= 20
    for first, second in overlapping:
        after = second.params["overlap_after_s"]
        assert 1.0 <= after <= 3.0
        assert second.at_s == round(first.at_s + after, 1)
        assert first.kind not in INSTANT_KINDS and first.overlaps is None
        assert not resources(first.kind, first.stage) & resources(second.kind, second.stage)
    # never two faults on one worker, nor two on Kafka or two on PostgreSQL at once
    assert resources("kill", "lead") & resources("scale", "lead")
    assert resources("kafka_cut", None) & resources("kafka_kill", None)
    assert resources("pg_latency", None) & resources("pg_restart", None)
    assert not resources("pg_cut", None) & resources("kafka_cut", None)


def test_overlap_moves_times_only() -> None:
    """The kinds, workers and parameters of a seed are those of the same seed without
    `overlap` (its draws come from a stream of their own); only when each starts differs."""
    kinds = expand(["all"])
    alone = [k for k in kinds if k != OVERLAP]
    for seed in range(10):
        with_overlap = build_schedule(seed, 1800, kinds)
        without = build_schedule(seed, 1800, alone)
        assert not any(f.overlaps for f in without)

        def drawn(faults: list[Fault]) -> list[tuple[object, ...]]:
            return [
                (f.kind, f.stage, {k: v for k, v in f.params.items() if k != "overlap_after_s"})
                for f in faults
            ]

        n = min(len(with_overlap), len(without))
        assert drawn(with_overlap)[:n] == drawn(without)[:n]


def test_each_fault_adds_its_toxics() -> None:
    latency = toxics_for("kafka_latency", {"latency_ms": 300, "hold_s": 20})
    assert [t["stream"] for t in latency] == ["upstream", "downstream"]
    assert sum(t["attributes"]["latency"] for t in latency) == 300
    bandwidth = toxics_for("pg_bandwidth", {"rate_kb_s": 32, "hold_s": 20})
    assert {t["type"] for t in bandwidth} == {"bandwidth"}
    assert all(t["attributes"]["rate"] == 32 for t in bandwidth)
    reset = toxics_for("pg_reset", {"reset_after_ms": 120, "hold_s": 4})
    assert [(t["type"], t["attributes"]) for t in reset] == [("reset_peer", {"timeout": 120})]
    # a cut: nothing passes either way, and no connection is closed (a partition)
    cut = toxics_for("kafka_cut", {"hold_s": 10})
    assert {(t["type"], t["stream"], t["attributes"]["timeout"]) for t in cut} == {
        ("timeout", "upstream", 0),
        ("timeout", "downstream", 0),
    }


PLAN = """127.0.0.1:19404 127.0.0.1:19403
127.0.0.1:19414 127.0.0.1:19413
127.0.0.1:19424 127.0.0.1:19423
api 127.0.0.1:19405
postgres 127.0.0.1:19406 127.0.0.1:15633
"""


def test_the_workers_reach_every_broker_and_postgres_through_the_proxy() -> None:
    plan = ProxyPlan.parse(PLAN)
    assert plan.api == "127.0.0.1:19405"
    assert [r.name for r in plan.kafka_routes()] == ["kafka-1", "kafka-2", "kafka-3"]
    direct = Endpoints(
        "127.0.0.1:19400,127.0.0.1:19410,127.0.0.1:19420",
        "postgresql+asyncpg://salesflow@127.0.0.1:15633/salesflow",
        replication_factor=3,
    )
    proxied = plan.proxied(direct)
    assert proxied.kafka == "127.0.0.1:19404,127.0.0.1:19414,127.0.0.1:19424"
    assert proxied.database_url == "postgresql+asyncpg://salesflow@127.0.0.1:19406/salesflow"
    assert proxied.replication_factor == 3
    # a database the infra scripts do not run would be proxied to the wrong server
    elsewhere = Endpoints("127.0.0.1:19400", "postgresql+asyncpg://s@127.0.0.1:5432/salesflow")
    try:
        plan.proxied(elsewhere)
    except SetupError:
        pass
    else:
        raise AssertionError("a database URL on another port was proxied")


def test_a_plan_without_postgres_or_api_is_refused() -> None:
    for text in ("127.0.0.1:19404 127.0.0.1:19403\napi 127.0.0.1:19405\n", "", "a b c d\n"):
        try:
            ProxyPlan.parse(text)
        except SetupError:
            continue
        raise AssertionError(f"accepted {text!r}")


def test_the_proxy_counts_bytes_per_proxy() -> None:
    body = """# HELP toxiproxy_proxy_received_bytes_total
toxiproxy_proxy_received_bytes_total{direction="downstream",listener="127.0.0.1:19396",proxy="kafka-1",upstream="127.0.0.1:19395"} 13545
toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:19396",proxy="kafka-1",upstream="127.0.0.1:19395"} 750
toxiproxy_proxy_sent_bytes_total{direction="upstream",listener="127.0.0.1:19396",proxy="kafka-1",upstream="127.0.0.1:19395"} 750
toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:19398",proxy="postgres",upstream="127.0.0.1:15632"} 1e+06
"""  # noqa: E501 - toxiproxy's lines as it prints them
    assert parse_proxy_bytes(body) == {"kafka-1": 14295.0, "postgres": 1_000_000.0}


def _done(fault: Fault, started: float, healed: float, *recovery: Recovery) -> Applied:
    return Applied(fault, started, healed, recovery=list(recovery))


def test_the_report_says_which_faults_overlapped_and_recovery_per_kind() -> None:
    cut = Fault(1, 20.0, "kafka_cut", None, {"hold_s": 10.0})
    kill = Fault(2, 22.0, "kill", "lead", {"overlap_after_s": 2.0}, overlaps=1)
    skew = Fault(3, 60.0, "clock_skew", "quote", {"skew_s": 7200})
    late = Fault(4, 62.0, "pg_latency", None, {"overlap_after_s": 2.0}, overlaps=3)
    applied = [
        _done(cut, 20.0, 30.5, Recovery("lead_svc", 10, 1.0, 5.0, 1.0)),
        _done(kill, 22.1, 27.0, Recovery("lead_svc", 10, 2.0, 7.5, 1.0)),
        _done(skew, 60.0, 61.0, Recovery("quote_svc", 10, 0.5, None, 0.4)),
        _done(late, 63.0, 80.0),
    ]
    found = overlaps(applied)
    assert [(o["overlapped"], o["together_s"]) for o in found] == [(True, 4.9), (False, 0.0)]
    assert found[0]["during"].startswith("#1 kafka_cut")
    assert found[0]["fault"].endswith("during #1")
    by_kind = recovery_by_kind([a.as_dict() for a in applied])
    assert by_kind["kafka_cut"] == {"faults": 1, "progress_s_max": 1.0, "throughput_s_max": 5.0}
    assert by_kind["kill"]["throughput_s_max"] == 7.5
    # a service that never got back: the kind's recovery is unknown, not the best of the rest
    assert by_kind["clock_skew"]["throughput_s_max"] is None


def test_a_worker_connected_past_the_proxy_is_seen() -> None:
    # /proc/net/tcp as the kernel writes it: local, remote (hex port), state 01 = established
    table = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:88C5 0100007F:4BC4 01 00000000:00000000 00:00000000 00000000     0        0 1001 1
   1: 0100007F:88C6 0100007F:4BC6 01 00000000:00000000 00:00000000 00000000     0        0 1002 1
   2: 0100007F:88C7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1
"""  # noqa: E501 - the kernel's lines
    assert parse_tcp_table(table) == {1001: 0x4BC4, 1002: 0x4BC6}
    plan = ProxyPlan.parse(PLAN)
    direct = Endpoints(
        "127.0.0.1:19400,127.0.0.1:19410,127.0.0.1:19420",
        "postgresql+asyncpg://salesflow@127.0.0.1:15633/salesflow",
    )
    through = Counter({19404: 3, 19414: 2, 19406: 4, 443: 1})
    assert plan.routing(through, direct) == (9, 0, None)
    # one connection to a broker's own client port: the advertised address was not the proxy's
    bypassed = plan.routing(through + Counter({19410: 1}), direct)
    assert bypassed[1] == 1 and bypassed[2] is not None
    assert plan.routing(Counter(), direct)[2] == "no connection through the proxy"


def test_infra_plans_one_proxy_per_node_next_to_its_ports(tmp_path: Path) -> None:
    """What `infra/kafka.sh proxied` prints for a cluster is the plan the harness parses: each
    node's proxy on its port + 4 in front of its PROXIED listener on port + 3 (the listener
    advertises the proxy's port), the API and the PostgreSQL proxy beside node 1's."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SALESFLOW_LOCAL_DIR": str(tmp_path / "local"),
        "SALESFLOW_KAFKA_BROKERS": "3",
        "SALESFLOW_KAFKA_PORT": "19400",
        "SALESFLOW_KAFKA_CONTROLLER_PORT": "19401",
        "SALESFLOW_PG_PORT": "15633",
    }
    printed = subprocess.run(
        ["bash", str(INFRA / "kafka.sh"), "proxied"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert ProxyPlan.parse(printed) == ProxyPlan.parse(PLAN)
