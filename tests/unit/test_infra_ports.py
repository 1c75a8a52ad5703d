"""infra/lib.sh: a checkout remembers its ports, the TLS listener's included, and derives the
TLS port from the Kafka port so checkouts on other ports never collide."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.infra import INFRA

_SHOW = 'source "$1"; echo "$KAFKA_PORT $KAFKA_TLS_PORT $KAFKA_CONTROLLER_PORT $PG_PORT"'


def _ports(local: Path, **env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SALESFLOW_")}
    done = subprocess.run(
        ["bash", "-c", _SHOW, "_", str(INFRA / "lib.sh")],
        env={**clean, "SALESFLOW_LOCAL_DIR": str(local), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(p) for p in done.stdout.split()]


def test_the_tls_listener_follows_the_kafka_port(tmp_path: Path) -> None:
    assert _ports(tmp_path) == [9092, 9094, 9093, 5432]
    assert _ports(
        tmp_path,
        SALESFLOW_KAFKA_PORT="49092",
        SALESFLOW_KAFKA_CONTROLLER_PORT="49093",
        SALESFLOW_PG_PORT="45432",
    ) == [49092, 49094, 49093, 45432]
    assert _ports(tmp_path, SALESFLOW_KAFKA_PORT="39092", SALESFLOW_KAFKA_TLS_PORT="39990")[:2] == [
        39092,
        39990,
    ]


def test_a_checkout_remembers_its_ports_from_its_generated_config(tmp_path: Path) -> None:
    kafka = tmp_path / "kafka"
    kafka.mkdir()
    (kafka / "server.properties").write_text(
        "listeners=CLIENT://127.0.0.1:49092,TLS://127.0.0.1:49500,CONTROLLER://127.0.0.1:49093\n"
    )
    assert _ports(tmp_path)[:3] == [49092, 49500, 49093]


def test_a_config_written_before_sasl_still_names_its_ports(tmp_path: Path) -> None:
    kafka = tmp_path / "kafka"
    kafka.mkdir()
    (kafka / "server.properties").write_text(
        "listeners=PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093\n"
    )
    assert _ports(tmp_path)[:3] == [39092, 39094, 39093]


_NODES = (
    'source "$1"; echo "$KAFKA_REPLICATION_FACTOR $KAFKA_MIN_ISR"; kafka_servers CLIENT; '
    "kafka_servers TLS; kafka_servers CONTROLLER; select_node 3; "
    'echo "$KAFKA_DIR $KAFKA_PORT $KAFKA_TLS_PORT $KAFKA_CONTROLLER_PORT"'
)


def _cluster(local: Path, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SALESFLOW_")}
    done = subprocess.run(
        ["bash", "-c", _NODES, "_", str(INFRA / "lib.sh")],
        env={**clean, "SALESFLOW_LOCAL_DIR": str(local), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_a_cluster_spreads_its_nodes_ten_ports_apart(tmp_path: Path) -> None:
    lines = _cluster(
        tmp_path,
        SALESFLOW_KAFKA_BROKERS="3",
        SALESFLOW_KAFKA_PORT="19400",
        SALESFLOW_KAFKA_CONTROLLER_PORT="19401",
    )
    assert lines == [
        "3 2",
        "127.0.0.1:19400,127.0.0.1:19410,127.0.0.1:19420",
        "127.0.0.1:19402,127.0.0.1:19412,127.0.0.1:19422",
        "127.0.0.1:19401,127.0.0.1:19411,127.0.0.1:19421",
        f"{tmp_path}/kafka-3 19420 19422 19421",
    ]
    # one node: its own directory, one replica
    assert _cluster(tmp_path)[0] == "1 1"
    assert _cluster(tmp_path)[1:4] == ["127.0.0.1:9092", "127.0.0.1:9094", "127.0.0.1:9093"]


def test_a_checkout_remembers_its_broker_mode_and_ports(tmp_path: Path) -> None:
    (tmp_path / "salesflow.env").write_text("SALESFLOW_KAFKA_BROKERS=3\n")
    node = tmp_path / "kafka-1"
    node.mkdir()
    (node / "server.properties").write_text(
        "listeners=CLIENT://127.0.0.1:19400,TLS://127.0.0.1:19402,CONTROLLER://127.0.0.1:19401\n"
    )
    assert _cluster(tmp_path)[:2] == ["3 2", "127.0.0.1:19400,127.0.0.1:19410,127.0.0.1:19420"]
    # asked for explicitly, the single node wins
    assert _cluster(tmp_path, SALESFLOW_KAFKA_BROKERS="1")[0] == "1 1"
