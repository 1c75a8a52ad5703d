"""Price lists and quote lines, pure: how a requested line becomes a priced (or unpriced) line.

Standard library and `contracts.money` only. A line is priced from the price list when its sku
is a known, active item in the quote's currency; otherwise it is a write-in that keeps whatever
price a person gave it, or none, in which case the quote cannot leave Draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contracts.money import DocumentTotals, LineAmounts, price_line, sum_totals

DEFAULT_UNIT = "each"


@dataclass(frozen=True, slots=True)
class PriceItem:
    """One item of one price list, as the product master last published it."""

    price_list_id: str
    sku: str
    description: str
    unit_price: Decimal
    currency: str
    tax_rate: Decimal
    unit: str
    active: bool


# The items of ONE price list by sku: what pricing looks at.
Catalog = Mapping[str, PriceItem]


@dataclass(frozen=True, slots=True)
class LineRequest:
    """A line as asked for: a lead's product interest, or a line a person entered on revision."""

    sku: str | None
    quantity: Decimal
    description: str | None = None
    unit_price: Decimal | None = None
    discount_amount: Decimal = Decimal(0)
    tax_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A line on a quote. `unit_price` None: a write-in that still needs a price."""

    line_no: int
    sku: str | None
    description: str
    write_in: bool
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    discount_amount: Decimal
    tax_rate: Decimal

    @property
    def priced(self) -> bool:
        return self.unit_price is not None

    def amounts(self, currency: str) -> LineAmounts | None:
        """Rounded amounts by the one pricing rule, or None while the line has no price."""
        if self.unit_price is None:
            return None
        return price_line(
            self.quantity, self.unit_price, self.discount_amount, self.tax_rate, currency
        )


def usable_item(catalog: Catalog, sku: str | None, currency: str | None = None) -> PriceItem | None:
    """The catalog item a line may be priced from: known, active and (if given) in `currency`.

    A withdrawn item counts as unknown: the product master says it can no longer be quoted.
    """
    item = catalog.get(sku) if sku is not None else None
    if item is None or not item.active:
        return None
    if currency is not None and item.currency != currency:
        return None
    return item


def quote_currency(requests: Iterable[LineRequest], catalog: Catalog, fallback: str) -> str:
    """A quote has ONE currency: that of the price list, read off its first usable item.

    When no requested sku is on the list, the lead's currency is the best guess left.
    """
    for request in requests:
        item = usable_item(catalog, request.sku)
        if item is not None:
            return item.currency
    return fallback


def price_lines(
    requests: Sequence[LineRequest],
    catalog: Catalog,
    currency: str,
    default_tax_rate: Decimal,
) -> tuple[QuoteLine, ...]:
    """Lines numbered from 1. Raises `money.InvalidLine` for a line that cannot be priced
    (a discount above the line's base amount), so that no quote carries such a line."""
    lines = tuple(
        _price_one(no, request, catalog, currency, default_tax_rate)
        for no, request in enumerate(requests, start=1)
    )
    for line in lines:
        line.amounts(currency)
    return lines


def _price_one(
    line_no: int,
    request: LineRequest,
    catalog: Catalog,
    currency: str,
    default_tax_rate: Decimal,
) -> QuoteLine:
    item = usable_item(catalog, request.sku, currency)
    if item is not None:
        # A catalog product; a price given by hand overrides the list (a negotiated price).
        return QuoteLine(
            line_no=line_no,
            sku=request.sku,
            description=request.description or item.description,
            write_in=False,
            quantity=request.quantity,
            unit=item.unit,
            unit_price=request.unit_price if request.unit_price is not None else item.unit_price,
            discount_amount=request.discount_amount,
            tax_rate=request.tax_rate if request.tax_rate is not None else item.tax_rate,
        )
    # Unknown, withdrawn or priced in another currency: a write-in. Its sku is kept (lineage
    # to the interest it came from) but its price must come from a person.
    known = catalog.get(request.sku) if request.sku is not None else None
    return QuoteLine(
        line_no=line_no,
        sku=request.sku,
        description=request.description
        or (known.description if known else None)
        or request.sku
        or "write-in product",
        write_in=True,
        quantity=request.quantity,
        unit=known.unit if known else DEFAULT_UNIT,
        unit_price=request.unit_price,
        discount_amount=request.discount_amount,
        tax_rate=request.tax_rate
        if request.tax_rate is not None
        else (known.tax_rate if known else default_tax_rate),
    )


def totals_of(lines: Iterable[QuoteLine], currency: str) -> DocumentTotals:
    """Sums of the priced lines (all of them on a quote that can be issued)."""
    amounts = [a for a in (line.amounts(currency) for line in lines) if a is not None]
    return sum_totals(amounts, currency)
