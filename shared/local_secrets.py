"""Identities from a secrets directory laid out as the local infra makes it (`infra/lib.sh`):
`kafka/<principal>` and `pg/<role>`, one password per file.

Whatever starts workers on the local servers (the demo, the tests, the fault harness) gives each
worker its own Kafka principal and database role from it, as a deployment's secrets would.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["identity_env", "password_file"]


def password_file(secrets_dir: Path | str, kind: str, name: str) -> Path:
    """The password file of principal (`kind="kafka"`) or role (`kind="pg"`) `name`."""
    return Path(secrets_dir) / kind / name


def identity_env(secrets_dir: Path | str | None, service: str) -> dict[str, str]:
    """`SALESFLOW_*` variables making a process `service` on Kafka and PostgreSQL; empty when
    there is no secrets directory (servers without authentication)."""
    if not secrets_dir:
        return {}
    return {
        "SALESFLOW_KAFKA_SASL_USERNAME": service,
        "SALESFLOW_KAFKA_SASL_PASSWORD": "",
        "SALESFLOW_KAFKA_SASL_PASSWORD_FILE": str(password_file(secrets_dir, "kafka", service)),
        "SALESFLOW_DATABASE_USER": service,
        "SALESFLOW_DATABASE_PASSWORD": "",
        "SALESFLOW_DATABASE_PASSWORD_FILE": str(password_file(secrets_dir, "pg", service)),
    }
