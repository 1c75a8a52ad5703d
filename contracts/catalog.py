"""Catalog prices published by the product master (ERP or PIM) and consumed by quote_svc.

The topic is compacted by ``<price_list_id>:<sku>``: the latest upsert per item is the price, so a
new quote_svc instance can rebuild its price table by reading the topic from the beginning.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.base import Amount, CurrencyCode, ExternalId, Payload, ShortText, TaxRate

__all__ = ["PriceListItemUpserted"]


class PriceListItemUpserted(Payload):
    """The price of one product on one price list was created or changed."""

    EVENT_TYPE: ClassVar[str] = "catalog.price_upserted"

    price_list_id: ExternalId = Field(
        description="Price list id in the product master.", examples=["PL-EUR-2025"]
    )
    sku: ExternalId = Field(description="Stock-keeping unit.", examples=["SKU-1001"])
    description: ShortText = Field(
        description="Product name as printed on documents.", examples=["Widget, blue, 10 mm"]
    )
    unit_price: Amount = Field(
        description="Price per unit in `currency`, net of tax; may carry more decimals than the "
        "currency's minor unit (line amounts are rounded, unit prices are not).",
        examples=["19.9900"],
    )
    currency: CurrencyCode = Field(
        description="ISO 4217 currency of the price list.", examples=["EUR"]
    )
    tax_rate: TaxRate = Field(description="Tax rate, 0.19 for 19 %.", examples=["0.19"])
    unit: ShortText = Field(default="each", description="Unit of measure.", examples=["each", "kg"])
    active: bool = Field(
        description="False when the item was withdrawn: it can no longer be quoted.",
        examples=[True],
    )
