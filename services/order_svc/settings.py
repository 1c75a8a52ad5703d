"""order_svc's own settings (`SALESFLOW_ORDER_*`): how order numbers look, and when an order
the ERP has not acknowledged is stale."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.order_svc.domain import Numbering, OrderPolicy


class OrderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_ORDER_", extra="ignore", frozen=True)

    # Kept short and plain so that `<prefix>-<year>-<seq>` stays a valid ExternalId on the wire.
    number_prefix: str = Field(
        default="SO",
        pattern=r"^[A-Z][A-Z0-9]{0,9}$",
        description="Prefix of order numbers: SO gives SO-2026-00001.",
    )

    ack_alert_hours: int = Field(
        default=0,
        ge=0,
        description="Hours a confirmed order may wait for the ERP's acknowledgement "
        "(order.acknowledge) before a tick raises order.handoff_stale, once per order; 0: never "
        "(an ERP that does not acknowledge orders).",
    )

    def policy(self) -> OrderPolicy:
        return OrderPolicy(
            numbering=Numbering(prefix=self.number_prefix), ack_alert_hours=self.ack_alert_hours
        )
