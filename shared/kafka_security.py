"""How a Kafka client proves who it is: security protocol, SASL, TLS; secrets from files.

Every Kafka client of the project (workers' consumers and relays, the CLI, bench, chaos, the
simulator, the tests) gets its connection options from `KafkaSecurity.client_options` through
`shared.kafka_clients`, so one set of `SALESFLOW_KAFKA_*` variables connects all of them to a
local broker, a corporate cluster or a managed service:

    SALESFLOW_KAFKA_SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    SALESFLOW_KAFKA_SASL_MECHANISM      SCRAM-SHA-256 | SCRAM-SHA-512 | PLAIN
    SALESFLOW_KAFKA_SASL_USERNAME
    SALESFLOW_KAFKA_SASL_PASSWORD       or SALESFLOW_KAFKA_SASL_PASSWORD_FILE (a mounted secret)
    SALESFLOW_KAFKA_SSL_CAFILE          the CA that signed the brokers' certificates (PEM);
                                        unset: the system's CAs
    SALESFLOW_KAFKA_SSL_CERTFILE        a client certificate (PEM), when the brokers ask for one
    SALESFLOW_KAFKA_SSL_KEYFILE         its key; SALESFLOW_KAFKA_SSL_KEY_PASSWORD(_FILE) unlocks it

Secrets are `SecretStr`: they never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


class KafkaSecurityError(ValueError):
    """The security settings cannot work (a file missing, a password absent)."""


class KafkaSecurity(BaseSettings):
    """A Kafka client's security settings, read from `SALESFLOW_KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="SALESFLOW_KAFKA_", extra="ignore", frozen=True)

    security_protocol: Protocol = Field(default="PLAINTEXT")
    sasl_mechanism: Mechanism = Field(default="SCRAM-SHA-512")
    sasl_username: str = Field(default="")
    sasl_password: SecretStr = Field(default=SecretStr(""))
    sasl_password_file: Path | None = Field(default=None)
    ssl_cafile: Path | None = Field(default=None)
    ssl_certfile: Path | None = Field(default=None)
    ssl_keyfile: Path | None = Field(default=None)
    ssl_key_password: SecretStr = Field(default=SecretStr(""))
    ssl_key_password_file: Path | None = Field(default=None)

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        if self.uses_sasl and not self.sasl_username:
            raise KafkaSecurityError(
                f"SALESFLOW_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "SALESFLOW_KAFKA_SASL_USERNAME"
            )
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def describe(self) -> str:
        """Who connects how, for messages (no secret)."""
        if self.uses_sasl:
            return f"{self.sasl_username!r} ({self.sasl_mechanism} over {self.security_protocol})"
        return self.security_protocol

    def password(self) -> str:
        return _secret(self.sasl_password, self.sasl_password_file, "SASL_PASSWORD")

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the brokers against the CA file (or the system's CAs) and their host names;
        presents the client certificate when one is configured."""
        for name, path in (
            ("SSL_CAFILE", self.ssl_cafile),
            ("SSL_CERTFILE", self.ssl_certfile),
            ("SSL_KEYFILE", self.ssl_keyfile),
        ):
            if path is not None and not path.is_file():
                raise KafkaSecurityError(f"SALESFLOW_KAFKA_{name}: no file at {path}")
        context = ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        if self.ssl_certfile is not None:
            key_password = _secret(self.ssl_key_password, self.ssl_key_password_file, "")
            context.load_cert_chain(
                str(self.ssl_certfile),
                str(self.ssl_keyfile) if self.ssl_keyfile else None,
                password=key_password or None,
            )
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer/Consumer/AdminClient/Client."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.password(),
            }
        return options

    def faststream(self) -> BaseSecurity | None:
        """The same, as FastStream's KafkaBroker takes it (and shows it in AsyncAPI)."""
        context = self.ssl_context() if self.uses_tls else None
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context) if context is not None else None
        kind = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }[self.sasl_mechanism]
        return kind(self.sasl_username, self.password(), ssl_context=context, use_ssl=self.uses_tls)

    def as_principal(self, username: str, password_file: Path) -> KafkaSecurity:
        """The same connection under another identity (a worker's own, from a secrets dir)."""
        return self.model_copy(
            update={
                "sasl_username": username,
                "sasl_password": SecretStr(""),
                "sasl_password_file": password_file,
            }
        )


def _secret(value: SecretStr, file: Path | None, name: str) -> str:
    """A secret given directly, else read from its file (trailing newline dropped)."""
    if value.get_secret_value():
        return value.get_secret_value()
    if file is None:
        if name:
            raise KafkaSecurityError(
                f"SALESFLOW_KAFKA_{name} or SALESFLOW_KAFKA_{name}_FILE must be set"
            )
        return ""
    try:
        return file.read_text().rstrip("\r\n")
    except OSError as error:
        raise KafkaSecurityError(
            f"cannot read SALESFLOW_KAFKA_{name or 'SSL_KEY_PASSWORD'}_FILE {file}: "
            f"{error.strerror}"
        ) from None
