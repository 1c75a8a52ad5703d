"""Catalog prices published by the product master (ERP or PIM) and consumed by quote_svc.

The topic is compacted by ``<price_list_id>:<sku>``: the latest upsert per item is the price, so a
new quote_svc instance can rebuild its price table by reading the topic from the beginning.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.base import (
    Amount,
    Contract,
    CurrencyCode,
    DiscountRate,
    ExternalId,
    Payload,
    Quantity,
    ShortText,
    TaxRate,
)

__all__ = ["PriceListItemUpserted", "VolumeDiscountTier", "VolumeDiscountUpserted"]


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


class VolumeDiscountTier(Contract):
    """From `min_quantity` units on a line, `discount_rate` off its base amount."""

    min_quantity: Quantity = Field(description="Lowest quantity of the tier.", examples=["10"])
    discount_rate: DiscountRate = Field(
        description="Share off the line's base amount (0.05 = 5 %).", examples=["0.05"]
    )


class VolumeDiscountUpserted(Payload):
    """The volume discount list of one product on one price list was created or changed (the
    ERP publishes it, compacted like the prices: the latest per item is the list)."""

    EVENT_TYPE: ClassVar[str] = "catalog.volume_discount_upserted"

    price_list_id: ExternalId = Field(
        description="Price list id in the product master.", examples=["PL-EUR-2025"]
    )
    sku: ExternalId = Field(description="Stock-keeping unit.", examples=["SKU-1001"])
    tiers: tuple[VolumeDiscountTier, ...] = Field(
        description="The tiers, by ascending min_quantity; a line takes the highest it reaches. "
        "Empty: no volume discount any more.",
        examples=[[{"min_quantity": "10", "discount_rate": "0.05"}]],
    )
