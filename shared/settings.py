"""Typed settings of the runtime that every worker shares.

Loaded once in a composition root and passed down as values (never a module-level instance).
Each service adds its own settings class with its own env prefix next to this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from shared.kafka_security import KafkaSecurity

SslMode = Literal["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class RuntimeSettings(BaseSettings):
    """Endpoints and tuning knobs read from `SALESFLOW_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SALESFLOW_", extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    # A topic created on a three-broker cluster lives on all three (min.insync.replicas=2 there);
    # infra/up.sh writes the value of its broker mode into the env file.
    kafka_replication_factor: int = Field(
        default=1, ge=1, description="Replicas of every topic this process creates."
    )
    kafka_security: KafkaSecurity = Field(
        default_factory=KafkaSecurity,
        description="SASL/TLS of every Kafka client (SALESFLOW_KAFKA_*, shared.kafka_security).",
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://salesflow@127.0.0.1:5432/salesflow"),
        description="SQLAlchemy URL of PostgreSQL (asyncpg driver).",
    )
    # Each service connects as its own role (shared.db_roles); the URL's user and password are
    # replaced by these when set, so one URL serves every worker and the secret stays in a file.
    database_user: str = Field(default="", description="Role to connect as (else the URL's).")
    database_password: SecretStr = Field(default=SecretStr(""))
    database_password_file: Path | None = Field(
        default=None, description="File holding the password (a Docker/Kubernetes secret)."
    )
    database_sslmode: SslMode = Field(
        default="", description="libpq's sslmode; empty: the URL's or none."
    )
    database_sslrootcert: Path | None = Field(
        default=None, description="CA of the server's certificate for verify-ca/verify-full."
    )
    health_host: str = Field(default="127.0.0.1", description="Address of /healthz, /readyz.")
    health_port: int = Field(
        default=0, description="Port of the health server; 0 picks a free one."
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The worker's event loop: uvloop (libuv, less CPU per I/O) or asyncio's own.",
    )
    log_json: bool | None = Field(
        default=None, description="JSON logs; None means JSON unless stderr is a terminal."
    )

    # Consumer: one batch = one PostgreSQL transaction, so the batch size is the main lever.
    batch_max_records: int = Field(default=500, ge=1, le=5000)
    # How long an empty poll waits for a first record. It does not delay a batch under load (a
    # poll returns what has arrived), but FastStream sleeps as long again after an empty poll,
    # so an idle worker hears a new record on average a quarter of it late, at every hop: 10 ms
    # instead of 50 took ~10 ms per hop off the idle latency for ~1.5 % of a core when idle.
    batch_timeout_ms: int = Field(default=10, ge=1)
    # Broker-side batching: a fetch is answered once this many bytes wait, or after
    # `fetch_max_wait_ms`. Every batch costs a fixed ~1.5 ms of CPU (a transaction of several
    # statements, socket writes, an offset commit) whatever it holds, so a busy worker fed
    # one-record batches spends its CPU on overhead and everyone's latency grows.
    fetch_min_bytes: int = Field(default=1, ge=1)
    fetch_max_wait_ms: int = Field(default=500, ge=0)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    max_poll_interval_ms: int = Field(default=300_000, ge=10_000)
    # Far above any real envelope (a lead is ~1 KB) and below the broker's 1 MB record limit, so an
    # oversized record can still be dead-lettered with its original bytes.
    max_message_bytes: int = Field(default=262_144, ge=1024)

    # Transient failures (database or broker down) are retried in place with exponential
    # backoff; after `transient_budget_s` the batch is handed back to Kafka (seek) and polled
    # again, which keeps the member well inside max_poll_interval_ms.
    retry_initial_s: float = Field(default=0.1, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    transient_budget_s: float = Field(default=30.0, gt=0)

    # Relay
    relay_batch_size: int = Field(default=1000, ge=1)
    # The worker hands its committed rows to the relay (or wakes it) itself; the poll only
    # finds rows another process committed or a crashed one left behind.
    relay_poll_interval_s: float = Field(default=0.5, gt=0)
    # The dedupe window: at least as long as a record can be read again from its topic
    # (contracts.topics.REPLAY_WINDOW_MS: a week's retention plus a day's segment), so that a
    # replay or a redelivery is never applied twice.
    inbox_retention_hours: float = Field(default=192.0, gt=0)

    # A partition whose position has not moved for this long while records wait on it turns
    # /readyz false and shows in salesflow_partition_stalled_seconds (shared.progress). Above
    # the transient budget, so a database outage alone reads as the outage, not as a stall.
    stall_after_s: float = Field(default=60.0, gt=0)

    db_pool_size: int = Field(default=5, ge=1)
    graceful_timeout_s: float = Field(default=20.0, gt=0)
    migrate_on_start: bool = Field(default=True)
    create_topics_on_start: bool = Field(default=True)

    # Shifts this worker's clock (days, may be fractional). For drills and end-to-end tests of
    # time rules such as quote validity, never for production.
    clock_offset_days: float = Field(default=0.0)

    # Time rules (quote expiry, dunning, stale hand-offs) act on ticks (contracts.ticks). Each
    # worker sends the tick of every period of this many seconds itself; all of them derive one
    # event id per period, so the inbox keeps one. 0: this worker sends none (`salesflow tick`
    # or another worker does). Rules are in days, so an hour is late enough.
    tick_seconds: int = Field(default=3600, ge=0)

    # Fault injection for the crash tests: the process SIGKILLs itself at this named point
    # after `crash_after` passes through it. Empty in production.
    crash_point: str = Field(default="")
    crash_after: int = Field(default=1, ge=1)

    def sqlalchemy_url(self) -> str:
        """The URL with this worker's role and password, and the TLS settings as libpq's
        `sslmode`/`sslrootcert` query parameters (shared.db.make_engine applies them), so every
        engine made from it, reports and migrations included, connects the same way."""
        url = database_url(
            self.database_url.get_secret_value(),
            user=self.database_user,
            password=_password(self.database_password, self.database_password_file),
        )
        tls: dict[str, str] = {"sslmode": self.database_sslmode} if self.database_sslmode else {}
        if self.database_sslrootcert is not None:
            tls["sslrootcert"] = str(self.database_sslrootcert)
        if not tls:
            return url
        return make_url(url).update_query_dict(tls).render_as_string(hide_password=False)


def _password(value: SecretStr, file: Path | None) -> str:
    if value.get_secret_value():
        return value.get_secret_value()
    return file.read_text().rstrip("\r\n") if file is not None else ""


def database_url(url: str, *, user: str = "", password: str = "") -> str:
    """`url` with its user and password replaced by those given (kept when empty)."""
    if not user and not password:
        return url
    parsed = make_url(url)
    if user:
        parsed = parsed.set(username=user)
    if password:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def replication_factor_from_env(env: Mapping[str, str]) -> int:
    """The replicas of every topic the environment asks for, for tools that take their endpoints
    from a given environment (the setting's own variable and validation)."""
    value = env.get("SALESFLOW_KAFKA_REPLICATION_FACTOR")
    field = RuntimeSettings.model_fields["kafka_replication_factor"]
    if not value:
        return int(field.default)
    return RuntimeSettings.model_validate(
        {"kafka_replication_factor": value}
    ).kafka_replication_factor


def database_url_from_env(env: Mapping[str, str]) -> str | None:
    """The database URL the environment describes (SALESFLOW_DATABASE_URL with
    SALESFLOW_DATABASE_USER and SALESFLOW_DATABASE_PASSWORD(_FILE) applied), for tools that
    take their endpoints from a given environment."""
    url = env.get("SALESFLOW_DATABASE_URL")
    if not url:
        return None
    file = env.get("SALESFLOW_DATABASE_PASSWORD_FILE")
    password = _password(
        SecretStr(env.get("SALESFLOW_DATABASE_PASSWORD", "")), Path(file) if file else None
    )
    return database_url(url, user=env.get("SALESFLOW_DATABASE_USER", ""), password=password)
