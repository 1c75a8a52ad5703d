"""Exchange rates, published by the ERP (the owner of the company's books) and consumed by
quote_svc: the rate of the day converts a lead's budget into the opportunity's currency and a
document's totals into the base currency (`contracts.money.convert`).

The topic is compacted by ``<from>:<to>:<valid_on>``: every day's rate is kept, so that a
document can be converted at the rate of its day, and a corrected rate replaces that day's.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.base import CurrencyCode, Payload, PositiveDecimal

__all__ = ["ExchangeRatePublished", "rate_key"]


class ExchangeRatePublished(Payload):
    """The rate of one currency pair on one day (a correction replaces it)."""

    EVENT_TYPE: ClassVar[str] = "fx.rate_published"

    from_currency: CurrencyCode = Field(description="Currency converted from.", examples=["USD"])
    to_currency: CurrencyCode = Field(description="Currency converted to.", examples=["EUR"])
    rate: PositiveDecimal = Field(
        description="Units of `to_currency` per unit of `from_currency`.", examples=["0.92"]
    )
    valid_on: date = Field(
        description="The day the rate is for; it holds until a later day's rate.",
        examples=["2025-01-10"],
    )


def rate_key(from_currency: str, to_currency: str, valid_on: date) -> str:
    """Compaction key of the rates topic, ``<from>:<to>:<valid_on>``."""
    return f"{from_currency}:{to_currency}:{valid_on.isoformat()}"
