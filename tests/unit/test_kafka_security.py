"""Client security settings: what each protocol and mechanism turns into, secrets from files,
and that no secret shows in a repr or an error."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from shared.kafka_clients import KafkaAccessRefused, client_options, refusal
from shared.kafka_clients import broker as broker_of
from shared.kafka_security import KafkaSecurity


@pytest.fixture(autouse=True)
def _no_salesflow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment; a shell that sourced .local/salesflow.env must not
    change what these tests see."""
    for name in [n for n in os.environ if n.startswith("SALESFLOW_")]:
        monkeypatch.delenv(name)


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    assert KafkaSecurity().client_options() == {"security_protocol": "PLAINTEXT"}
    assert KafkaSecurity().faststream() is None


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_sasl_mechanisms_map_to_aiokafka(mechanism: str) -> None:
    settings = KafkaSecurity(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,  # type: ignore[arg-type]
        sasl_username="lead_svc",
        sasl_password="s3cret",  # type: ignore[arg-type]
    )
    assert settings.client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "lead_svc",
        "sasl_plain_password": "s3cret",
    }
    security = settings.faststream()
    assert security is not None
    assert not security.use_ssl


def test_the_password_comes_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    settings = KafkaSecurity(
        security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password_file=secret
    )
    assert settings.client_options()["sasl_plain_password"] == "from-a-file"


def test_the_environment_configures_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("env-secret")
    monkeypatch.setenv("SALESFLOW_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("SALESFLOW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("SALESFLOW_KAFKA_SASL_USERNAME", "erp")
    monkeypatch.setenv("SALESFLOW_KAFKA_SASL_PASSWORD_FILE", str(secret))
    options = client_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("erp", "env-secret")


def test_secrets_never_show_in_a_repr(tmp_path: Path) -> None:
    settings = KafkaSecurity(
        security_protocol="SASL_SSL",
        sasl_username="u",
        sasl_password="hunter2",  # type: ignore[arg-type]
    )
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_sasl_without_a_user_or_a_password_is_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SASL_USERNAME"):
        KafkaSecurity(security_protocol="SASL_SSL")
    no_password = KafkaSecurity(security_protocol="SASL_PLAINTEXT", sasl_username="u")
    with pytest.raises(KafkaAccessRefused, match="SASL_PASSWORD"):
        client_options(no_password)
    unreadable = no_password.model_copy(update={"sasl_password_file": tmp_path / "missing"})
    with pytest.raises(KafkaAccessRefused, match="cannot read"):
        client_options(unreadable)


def test_tls_verifies_against_the_ca_file(tmp_path: Path) -> None:
    settings = KafkaSecurity(security_protocol="SSL")
    context = settings.client_options()["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    missing = KafkaSecurity(security_protocol="SSL", ssl_cafile=tmp_path / "ca.pem")
    with pytest.raises(KafkaAccessRefused, match="SSL_CAFILE: no file"):
        client_options(missing)


def test_refusals_are_told_apart_from_outages() -> None:
    from aiokafka import errors  # noqa: PLC0415 - only this test needs the error classes

    assert refusal(errors.SaslAuthenticationFailed()) == "authentication"
    assert refusal(errors.TopicAuthorizationFailedError()) == "authorization"
    assert refusal(ssl.SSLCertVerificationError("self signed")) == "certificate"
    assert refusal(errors.KafkaConnectionError("down")) is None
    assert refusal(ConnectionRefusedError()) is None


def test_a_worker_broker_knows_every_bootstrap_server() -> None:
    # FastStream took "a:1,b:2" as one server: no worker could start against a cluster
    broker = broker_of("127.0.0.1:19400, 127.0.0.1:19410,127.0.0.1:19420")
    # the servers FastStream connects to are the ones its specification names
    assert broker.specification.url == [
        "127.0.0.1:19400",
        "127.0.0.1:19410",
        "127.0.0.1:19420",
    ]
