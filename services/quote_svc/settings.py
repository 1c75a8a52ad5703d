"""quote_svc's own settings (`SALESFLOW_QUOTE_*`): the price list, validity and issuing policy."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.documents import PaymentTerms
from services.quote_svc.domain import QuotePolicy


class QuoteSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_QUOTE_", extra="ignore", frozen=True)

    price_list_id: str = Field(
        default="STANDARD", min_length=1, description="Price list new quotes are priced from."
    )
    validity_days: int = Field(
        default=30, ge=0, description="Days an issued quote can be accepted after valid_from."
    )
    payment_terms: PaymentTerms = Field(
        default=PaymentTerms.NET_30, description="Payment terms offered on issued quotes."
    )
    auto_activate: bool = Field(
        default=True,
        description="Issue the quote drafted from a qualified lead as soon as it is fully priced.",
    )
    default_tax_rate: Decimal = Field(
        default=Decimal("0"),
        ge=0,
        le=1,
        description="Tax rate of a write-in line that has none of its own.",
    )

    expiry_closes_opportunity: bool = Field(
        default=False,
        description="When a tick expires an Active quote past its validity: close its "
        "opportunity as Lost (canceled) too, if no other quote of it is open. False keeps the "
        "opportunity open so a person can revise the quote (D365's way).",
    )

    base_currency: str = Field(
        default="EUR",
        pattern=r"^[A-Z]{3}$",
        description="The company's base currency: every quote, order, invoice and credit note "
        "carries its totals in it at the rate of the quote's day (fx.rates).",
    )
    currency_price_lists: str = Field(
        default="",
        pattern=r"^\s*([A-Z]{3}:[A-Za-z0-9][A-Za-z0-9._/-]*(\s*,\s*[A-Z]{3}:[A-Za-z0-9][A-Za-z0-9._/-]*)*)?\s*$",
        description="The price list of each other currency, e.g. USD:PL-USD,GBP:PL-GBP. A lead "
        "in a listed currency is quoted from its list in its currency; any other is quoted from "
        "price_list_id, its budget converted at the rate of the day (or held until one is "
        "published).",
    )

    def policy(self) -> QuotePolicy:
        return QuotePolicy(
            price_list_id=self.price_list_id,
            validity_days=self.validity_days,
            payment_terms=self.payment_terms.value,
            auto_activate=self.auto_activate,
            default_tax_rate=self.default_tax_rate,
            expiry_closes_opportunity=self.expiry_closes_opportunity,
            base_currency=self.base_currency,
            currency_lists=tuple(
                (currency.strip(), price_list.strip())
                for currency, price_list in (
                    pair.split(":", 1)
                    for pair in self.currency_price_lists.split(",")
                    if pair.strip()
                )
            ),
        )
