"""The gateway's own settings (`SALESFLOW_GATEWAY_*`); the endpoints, relay and inbox settings
are the shared `RuntimeSettings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.clients import Client


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_GATEWAY_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port; 0 picks a free one.")
    clients: tuple[Client, ...] = Field(
        default=(),
        description="The clients allowed in, as JSON (a list of client objects); added to "
        "those of `clients_file`.",
    )
    clients_file: Path | None = Field(
        default=None,
        description="A JSON file with a list of client objects (keys kept out of the "
        "environment, e.g. a mounted secret).",
    )
    # A signed webhook older than this is refused: a captured request cannot be replayed later.
    signature_tolerance_s: float = Field(default=300.0, gt=0)
    max_body_bytes: int = Field(default=262_144, ge=1024)
    # Requests in flight get this long to finish on SIGTERM, then the relay drains the outbox.
    shutdown_timeout_s: float = Field(default=10.0, gt=0)

    def all_clients(self) -> tuple[Client, ...]:
        if self.clients_file is None:
            return self.clients
        listed = Client.list_from_json(self.clients_file.read_bytes())
        return (*self.clients, *listed)
