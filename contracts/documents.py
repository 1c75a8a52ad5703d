"""Pieces shared by quotes, orders and invoices: lines, totals, payment terms.

Documents carry ONE ``currency`` at document level and plain decimal amounts, the way ERP documents
do, instead of a currency per amount: a line in another currency is then unrepresentable rather than
a runtime check. Lines carry their rounded amounts (not only quantity and price) so that every stage
and every ERP reads the same cents instead of recomputing them with its own rounding.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from pydantic import Field

from contracts import money
from contracts.base import (
    Amount,
    Contract,
    CurrencyCode,
    ExternalId,
    PositiveDecimal,
    Quantity,
    ShortText,
    TaxRate,
)

__all__ = [
    "LINE_EXAMPLE",
    "TOTALS_EXAMPLE",
    "BaseAmounts",
    "DocumentLine",
    "DocumentTotals",
    "InvoicingPolicy",
    "PaymentTerms",
]

# JSON examples for the schemas of every document that carries lines and totals.
LINE_EXAMPLE: Final[dict[str, object]] = {
    "line_no": 1,
    "sku": "SKU-1001",
    "description": "Widget, blue, 10 mm",
    "write_in": False,
    "quantity": "10",
    "unit": "each",
    "unit_price": "19.99",
    "discount_amount": "9.90",
    "tax_rate": "0.19",
    "base_amount": "199.90",
    "net_amount": "190.00",
    "tax_amount": "36.10",
    "total_amount": "226.10",
}
TOTALS_EXAMPLE: Final[dict[str, str]] = {
    "subtotal": "199.90",
    "discount_total": "9.90",
    "net_total": "190.00",
    "tax_total": "36.10",
    "grand_total": "226.10",
}


class PaymentTerms(StrEnum):
    """When an invoice falls due, counted from its issue date."""

    DUE_ON_RECEIPT = "due_on_receipt"
    NET_15 = "net_15"
    NET_30 = "net_30"
    NET_45 = "net_45"
    NET_60 = "net_60"


class InvoicingPolicy(StrEnum):
    """When an order is billed (Odoo: invoicing policy; down payments as in Odoo and ERPNext).

    on_order: the whole order at confirmation. on_delivery: each shipment, for what it shipped.
    down_payment: a share of the order at confirmation, then each shipment, the down payment
    deducted from those invoices until it is used up.
    """

    ON_ORDER = "on_order"
    ON_DELIVERY = "on_delivery"
    DOWN_PAYMENT = "down_payment"


class DocumentLine(Contract):
    """One priced line, copied unchanged from quote to order to invoice."""

    line_no: int = Field(ge=1, description="Position on the document, from 1.", examples=[1])
    sku: ExternalId | None = Field(
        description="Catalog sku; None for a write-in product.", examples=["SKU-1001", None]
    )
    description: ShortText = Field(description="Line text.", examples=["Widget, blue, 10 mm"])
    write_in: bool = Field(
        description="True when the product is not from the catalog and was priced by hand.",
        examples=[False],
    )
    quantity: Quantity = Field(description="Quantity, > 0.", examples=["10"])
    unit: ShortText = Field(description="Unit of measure.", examples=["each"])
    unit_price: Amount = Field(description="Price per unit, net of tax.", examples=["19.9900"])
    discount_amount: Amount = Field(
        description="Manual discount on the line, rounded; never above base_amount.",
        examples=["9.90"],
    )
    tax_rate: TaxRate = Field(description="Tax rate, 0.19 for 19 %.", examples=["0.19"])
    base_amount: Amount = Field(
        description="round(quantity x unit_price) to the currency's minor unit.",
        examples=["199.90"],
    )
    net_amount: Amount = Field(description="base_amount - discount_amount.", examples=["190.00"])
    tax_amount: Amount = Field(description="round(net_amount x tax_rate).", examples=["36.10"])
    total_amount: Amount = Field(description="net_amount + tax_amount.", examples=["226.10"])

    @classmethod
    def priced(
        cls,
        *,
        line_no: int,
        sku: str | None,
        description: str,
        quantity: Decimal,
        unit: str,
        unit_price: Decimal,
        discount_amount: Decimal,
        tax_rate: Decimal,
        currency: str,
    ) -> DocumentLine:
        """A line priced by ``money.price_line``: the one way to fill the amount columns."""
        amounts = money.price_line(quantity, unit_price, discount_amount, tax_rate, currency)
        return cls(
            line_no=line_no,
            sku=sku,
            description=description,
            write_in=sku is None,
            quantity=quantity,
            unit=unit,
            unit_price=unit_price,
            discount_amount=amounts.discount,
            tax_rate=tax_rate,
            base_amount=amounts.base,
            net_amount=amounts.net,
            tax_amount=amounts.tax,
            total_amount=amounts.total,
        )

    def amounts(self, currency: str) -> money.LineAmounts:
        """The line's amounts as the pure domain sees them (for ``money.sum_totals``)."""
        return money.LineAmounts(
            base=self.base_amount,
            discount=self.discount_amount,
            net=self.net_amount,
            tax=self.tax_amount,
            total=self.total_amount,
            currency=currency,
        )


class DocumentTotals(Contract):
    """Sums of the rounded lines; equal to the cent across quote, order and invoice."""

    subtotal: Amount = Field(description="Sum of base_amount.", examples=["199.90"])
    discount_total: Amount = Field(description="Sum of discount_amount.", examples=["9.90"])
    net_total: Amount = Field(description="Sum of net_amount.", examples=["190.00"])
    tax_total: Amount = Field(description="Sum of tax_amount.", examples=["36.10"])
    grand_total: Amount = Field(
        description="Sum of total_amount: what is owed.", examples=["226.10"]
    )

    @classmethod
    def from_money(cls, totals: money.DocumentTotals) -> DocumentTotals:
        """Wire form of totals computed by ``money.sum_totals``."""
        return cls(
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            net_total=totals.net_total,
            tax_total=totals.tax_total,
            grand_total=totals.grand_total,
        )

    def to_money(self, currency: str) -> money.DocumentTotals:
        """Domain form, e.g. to compare with totals recomputed from the lines."""
        return money.DocumentTotals(
            subtotal=self.subtotal,
            discount_total=self.discount_total,
            net_total=self.net_total,
            tax_total=self.tax_total,
            grand_total=self.grand_total,
            currency=currency,
        )


class BaseAmounts(Contract):
    """A document's amounts in the company's base currency: the rate used and each total
    converted by the rule of `contracts.money` (round(rate x amount), each on its own)."""

    base_currency: CurrencyCode = Field(description="The base currency.", examples=["EUR"])
    exchange_rate: PositiveDecimal = Field(
        description="Base units per unit of the document's currency (1 when they are the same).",
        examples=["0.92"],
    )
    rate_date: date = Field(
        description="The day whose rate was used (the quote's issue).", examples=["2025-01-10"]
    )
    totals: DocumentTotals = Field(
        description="The document's totals in the base currency.", examples=[TOTALS_EXAMPLE]
    )

    @classmethod
    def of(
        cls, totals: DocumentTotals, currency: str, rate: Decimal, base: str, day: date
    ) -> BaseAmounts:
        based = money.to_base(totals.to_money(currency), rate, base)
        return cls(
            base_currency=base,
            exchange_rate=rate,
            rate_date=day,
            totals=DocumentTotals.from_money(based),
        )
