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
