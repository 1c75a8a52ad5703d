"""Pricing, pure: which lines the price list prices, the quote's currency, totals to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import money
from services.quote_svc.domain import (
    LineRequest,
    PriceItem,
    price_lines,
    quote_currency,
    totals_of,
    usable_item,
)

CATALOG = {
    "A": PriceItem("PL", "A", "Alpha", Decimal("19.9900"), "EUR", Decimal("0.19"), "kg", True),
    "B": PriceItem("PL", "B", "Beta", Decimal("5"), "USD", Decimal("0.07"), "each", True),
    "C": PriceItem("PL", "C", "Gamma", Decimal("5"), "EUR", Decimal("0.07"), "each", False),
}


def test_a_usable_item_is_known_active_and_in_the_quote_currency() -> None:
    assert usable_item(CATALOG, "A", "EUR") is CATALOG["A"]
    assert usable_item(CATALOG, "B", "EUR") is None
    assert usable_item(CATALOG, "B") is CATALOG["B"]
    assert usable_item(CATALOG, "C") is None
    assert usable_item(CATALOG, None) is None


def test_the_currency_comes_from_the_first_usable_item_else_the_fallback() -> None:
    assert (
        quote_currency([LineRequest("C", Decimal(1)), LineRequest("B", Decimal(1))], CATALOG, "EUR")
        == "USD"
    )
    assert quote_currency([LineRequest("Z", Decimal(1))], CATALOG, "GBP") == "GBP"


def test_catalog_lines_take_the_lists_text_unit_and_tax_unless_overridden() -> None:
    a, b = price_lines(
        [
            LineRequest("A", Decimal("2.5")),
            LineRequest(
                "A",
                Decimal(1),
                description="Alpha, cut",
                unit_price=Decimal("18"),
                tax_rate=Decimal("0.07"),
            ),
        ],
        CATALOG,
        "EUR",
        Decimal(0),
    )
    assert (a.line_no, a.description, a.unit, a.unit_price, a.tax_rate, a.write_in) == (
        1,
        "Alpha",
        "kg",
        Decimal("19.9900"),
        Decimal("0.19"),
        False,
    )
    assert (b.line_no, b.description, b.unit_price, b.tax_rate, b.write_in) == (
        2,
        "Alpha, cut",
        Decimal("18"),
        Decimal("0.07"),
        False,
    )
    amounts = a.amounts("EUR")
    assert amounts is not None
    assert (amounts.base, amounts.tax, amounts.total) == (
        Decimal("49.98"),
        Decimal("9.50"),
        Decimal("59.48"),
    )


def test_other_currency_or_withdrawn_items_become_unpriced_write_ins_keeping_sku_and_text() -> None:
    b, c = price_lines(
        [LineRequest("B", Decimal(1)), LineRequest("C", Decimal(1))], CATALOG, "EUR", Decimal("0.2")
    )
    assert (b.sku, b.description, b.write_in, b.unit_price, b.tax_rate) == (
        "B",
        "Beta",
        True,
        None,
        Decimal("0.07"),
    )
    assert (c.write_in, c.priced, c.amounts("EUR")) == (True, False, None)


def test_a_discount_above_the_base_amount_cannot_be_priced() -> None:
    with pytest.raises(money.InvalidLine):
        price_lines(
            [LineRequest("A", Decimal(1), discount_amount=Decimal("20"))],
            CATALOG,
            "EUR",
            Decimal(0),
        )


def test_totals_ignore_unpriced_lines() -> None:
    lines = price_lines(
        [LineRequest("A", Decimal(1)), LineRequest("Z", Decimal(9))], CATALOG, "EUR", Decimal(0)
    )
    assert totals_of(lines, "EUR").grand_total == Decimal("23.79")


_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=4)
_qty = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3)
_rate = st.sampled_from([Decimal("0"), Decimal("0.07"), Decimal("0.19"), Decimal("0.2")])


@given(st.lists(st.tuples(_qty, _amounts, _rate), min_size=1, max_size=8))
def test_totals_are_sums_of_rounded_lines(rows: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    requests = [LineRequest(None, q, "x", unit_price=p, tax_rate=r) for q, p, r in rows]
    lines = price_lines(requests, {}, "EUR", Decimal(0))
    totals = totals_of(lines, "EUR")
    amounts = [money.price_line(q, p, Decimal(0), r, "EUR") for q, p, r in rows]
    assert totals.net_total == sum((a.net for a in amounts), Decimal(0))
    assert totals.grand_total == totals.net_total + totals.tax_total
    assert totals.tax_total == sum(
        (money.round_money(a.net * r, "EUR") for a, (_, _, r) in zip(amounts, rows, strict=True)),
        Decimal(0),
    )
