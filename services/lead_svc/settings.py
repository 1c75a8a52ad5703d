"""lead_svc's own settings (`SALESFLOW_LEAD_*`): the automatic qualification policy."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.lead_svc.domain import QualificationPolicy


class LeadSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_LEAD_", extra="ignore", frozen=True)

    auto_qualify: bool = Field(default=True, description="Qualify leads that fit every rule.")
    require_company: bool = Field(default=True)
    require_interest: bool = Field(default=True)
    min_budget: Decimal = Field(default=Decimal("0"), ge=0)
    qualifying_timeframes: frozenset[str] = Field(
        default=frozenset({"immediate", "this_quarter", "next_quarter", "this_year"})
    )
    disqualify_unreachable: bool = Field(default=True)
    disqualify_duplicates: bool = Field(default=True)

    def policy(self) -> QualificationPolicy:
        return QualificationPolicy(
            auto_qualify=self.auto_qualify,
            require_company=self.require_company,
            require_interest=self.require_interest,
            min_budget=self.min_budget,
            qualifying_timeframes=self.qualifying_timeframes,
            disqualify_unreachable=self.disqualify_unreachable,
            disqualify_duplicates=self.disqualify_duplicates,
        )
