"""A worker's database identity: the URL names the server, the role and its password may come
from their own settings (a password file, as secrets are mounted); TLS from sslmode."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from shared.db import database_ssl, engine_arguments
from shared.settings import RuntimeSettings, database_url_from_env


@pytest.fixture(autouse=True)
def _no_salesflow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment; a shell that sourced .local/salesflow.env must not
    change what these tests see."""
    for name in [n for n in os.environ if n.startswith("SALESFLOW_")]:
        monkeypatch.delenv(name)


URL = "postgresql+asyncpg://salesflow@db.example:5432/salesflow"


def test_the_role_and_its_password_file_replace_the_urls(tmp_path: Path) -> None:
    secret = tmp_path / "lead_svc"
    secret.write_text("p@ss:word/1\n")
    settings = RuntimeSettings(
        database_url=URL,  # type: ignore[arg-type]
        database_user="lead_svc",
        database_password_file=secret,
    )
    url = settings.sqlalchemy_url()
    assert url.startswith("postgresql+asyncpg://lead_svc:")
    assert url.endswith("@db.example:5432/salesflow")
    assert "p%40ss%3Aword%2F1" in url  # quoted, so any password survives the URL
    assert "p@ss" not in repr(settings)


def test_without_them_the_url_is_used_as_given() -> None:
    assert RuntimeSettings(database_url=URL).sqlalchemy_url() == URL  # type: ignore[arg-type]


def test_tools_compose_the_same_url_from_an_environment(tmp_path: Path) -> None:
    secret = tmp_path / "salesflow"
    secret.write_text("owner-secret")
    env = {"SALESFLOW_DATABASE_URL": URL, "SALESFLOW_DATABASE_PASSWORD_FILE": str(secret)}
    assert database_url_from_env(env) == URL.replace("salesflow@", "salesflow:owner-secret@", 1)
    assert database_url_from_env({}) is None


def test_sslmode_maps_to_asyncpg() -> None:
    assert database_ssl("", None) == {}
    assert database_ssl("require", None) == {"ssl": "require"}
    full = database_ssl("verify-full", None)["ssl"]
    assert isinstance(full, ssl.SSLContext)
    assert full.check_hostname
    assert not database_ssl("verify-ca", None)["ssl"].check_hostname


def test_the_tls_settings_travel_in_the_url_to_every_engine(tmp_path: Path) -> None:
    settings = RuntimeSettings(
        database_url=URL,  # type: ignore[arg-type]
        database_sslmode="verify-ca",
        database_sslrootcert=tmp_path / "ca.pem",
    )
    url = settings.sqlalchemy_url()
    assert "sslmode=verify-ca" in url
    assert f"sslrootcert={tmp_path / 'ca.pem'}".replace("/", "%2F") in url
    bare, args = engine_arguments(settings.sqlalchemy_url().split("&sslrootcert")[0])
    assert bare == URL
    assert isinstance(args["ssl"], ssl.SSLContext)
    assert engine_arguments(URL) == (URL, {})
