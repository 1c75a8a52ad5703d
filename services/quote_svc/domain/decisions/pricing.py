"""quote_svc's pricing: which catalog item a line may be priced from, the quote's one currency,
and lines priced and discounted by the rules of `contracts.money` (a line's own and volume
discount rates, a quote-level discount allocated to the lines).

A line is priced from the price list when its sku is a known, active item in the quote's
currency; otherwise it is a write-in that keeps whatever price a person gave it, or none, and
then the quote cannot leave Draft. Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from contracts.money import (
    AmountOutOfRange,
    LineAmounts,
    allocate,
    line_discount,
    round_money,
)
from services.quote_svc.domain.model import (
    DEFAULT_UNIT,
    Catalog,
    DocumentDiscount,
    LineRequest,
    PriceItem,
    QuoteLine,
    Volumes,
    totals_of,
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
    volumes: Volumes | None = None,
    document: DocumentDiscount | None = None,
) -> tuple[QuoteLine, ...]:
    """Lines numbered from 1, discounted by the discount rule (`contracts.money`); see
    `price_document`."""
    return price_document(requests, catalog, currency, default_tax_rate, volumes, document)[0]


def price_document(
    requests: Sequence[LineRequest],
    catalog: Catalog,
    currency: str,
    default_tax_rate: Decimal,
    volumes: Volumes | None = None,
    document: DocumentDiscount | None = None,
) -> tuple[tuple[QuoteLine, ...], dict[str, Decimal | None]]:
    """Lines numbered from 1, discounted by the discount rule (`contracts.money`): each line's
    own and volume rates, then a quote-level discount allocated over the priced lines; and what
    the quote records of that discount (the rate asked, the amount it came to). Raises
    `money.InvalidLine` for a line that cannot be priced (a discount above the line's base
    amount; an amount, or the quote's total, beyond what the contracts can carry), so that no
    quote carries such a line."""
    lines = tuple(
        price_one(no, request, catalog, currency, default_tax_rate, volumes or {})
        for no, request in enumerate(requests, start=1)
    )
    for line in lines:
        line.amounts(currency)
    recorded: dict[str, Decimal | None] = {
        "quote_discount_rate": None,
        "quote_discount_amount": None,
    }
    if document is not None and document.given:
        priced = [line for line in lines if line.priced]
        total = document_discount_total(priced, document, currency)
        lines = discount_document(lines, total, currency)
        recorded = {"quote_discount_rate": document.rate, "quote_discount_amount": total}
    totals_of(lines, currency)
    return lines, recorded


def document_discount_total(
    lines: Sequence[QuoteLine], document: DocumentDiscount, currency: str
) -> Decimal:
    """What a quote-level discount comes to over the priced lines' nets."""
    nets = sum((a.net for a in _amounts(lines, currency)), Decimal(0))
    by_rate = round_money(nets * (document.rate or Decimal(0)), currency)
    return by_rate + round_money(document.amount or Decimal(0), currency)


def discount_document(
    lines: tuple[QuoteLine, ...], total: Decimal, currency: str
) -> tuple[QuoteLine, ...]:
    """The lines with their shares of a quote-level discount of `total` added to theirs."""
    priced = [line for line in lines if line.priced]
    shares = iter(allocate(total, [a.net for a in _amounts(priced, currency)], currency))
    return tuple(
        replace(line, discount_amount=line.discount_amount + next(shares)) if line.priced else line
        for line in lines
    )


def _amounts(lines: Iterable[QuoteLine], currency: str) -> list[LineAmounts]:
    return [a for a in (line.amounts(currency) for line in lines) if a is not None]


def priceable(lines: tuple[QuoteLine, ...], currency: str) -> tuple[QuoteLine, ...]:
    """The lines of a qualified lead's interests as far as they can carry a price: a line whose
    amount, or a quote whose total, would go beyond what the contracts carry (a billion units of
    a dear product) is left without a price for a person to settle, as an unknown product is.
    The lead is already qualified: its interests are never refused here."""
    kept = []
    for line in lines:
        try:
            line.amounts(currency)
            kept.append(line)
        except AmountOutOfRange:
            kept.append(replace(line, unit_price=None))
    try:
        totals_of(kept, currency)
    except AmountOutOfRange:
        return tuple(replace(line, unit_price=None) for line in kept)
    return tuple(kept)


def price_one(
    line_no: int,
    request: LineRequest,
    catalog: Catalog,
    currency: str,
    default_tax_rate: Decimal,
    volumes: Volumes,
) -> QuoteLine:
    item = usable_item(catalog, request.sku, currency)
    if item is not None:
        # A catalog product; a price given by hand overrides the list (a negotiated price), and
        # the volume list of the item gives the rate of the quantity's tier.
        unit_price = request.unit_price if request.unit_price is not None else item.unit_price
        listed = volumes.get(item.sku)
        volume_rate = listed.rate_for(request.quantity) if listed else Decimal(0)
        return QuoteLine(
            line_no=line_no,
            sku=request.sku,
            description=request.description or item.description,
            write_in=False,
            quantity=request.quantity,
            unit=item.unit,
            unit_price=unit_price,
            discount_amount=_discount(request, unit_price, currency, volume_rate),
            tax_rate=request.tax_rate if request.tax_rate is not None else item.tax_rate,
            discount_rate=request.discount_rate,
            volume_rate=volume_rate or None,
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
        discount_amount=request.discount_amount
        if request.unit_price is None
        else _discount(request, request.unit_price, currency, Decimal(0)),
        tax_rate=request.tax_rate
        if request.tax_rate is not None
        else (known.tax_rate if known else default_tax_rate),
        discount_rate=request.discount_rate,
    )


def _discount(
    request: LineRequest, unit_price: Decimal, currency: str, volume_rate: Decimal
) -> Decimal:
    """The line's discount by the rule of `contracts.money`: its rates add up, one rounding."""
    try:
        return line_discount(
            request.quantity,
            unit_price,
            currency,
            rate=(request.discount_rate or Decimal(0)) + volume_rate,
            amount=request.discount_amount,
        )
    except AmountOutOfRange:
        # A line beyond what the contracts carry: pricing it (`LineAmounts`) says so, where a
        # lead's interest is left for a person and a person's line is refused.
        return request.discount_amount
