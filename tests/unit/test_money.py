"""Money rules: rounding per currency, line pricing, document totals equal to the cent."""

from __future__ import annotations

import ast
import sys
from dataclasses import astuple, dataclass
from decimal import Decimal
from pathlib import Path
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.money import (
    MINOR_UNITS,
    CurrencyMismatch,
    DocumentTotals,
    InvalidLine,
    LineAmounts,
    Money,
    UnknownCurrency,
    minor_unit,
    price_line,
    round_money,
    sum_totals,
)

D = Decimal


# --- rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "EUR", "2.35"),  # half up, not banker's (2.34)
        ("2.344", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),  # half away from zero
        ("0.125", "USD", "0.13"),
        ("10", "EUR", "10.00"),
        ("1234.5", "JPY", "1235"),
        ("1234.49", "KRW", "1234"),
        ("1.0005", "KWD", "1.001"),
        ("1.0004", "BHD", "1.000"),
        ("7.77777", "TND", "7.778"),
    ],
)
def test_round_money(amount: str, currency: str, expected: str) -> None:
    rounded = round_money(D(amount), currency)

    assert rounded == D(expected)
    assert str(rounded) == expected  # the exponent is the minor unit, not just the value


def test_minor_units() -> None:
    assert [minor_unit(c) for c in ("USD", "EUR", "GBP", "CHF", "INR", "ZAR")] == [2] * 6
    assert [minor_unit(c) for c in ("JPY", "KRW")] == [0, 0]
    assert [minor_unit(c) for c in ("KWD", "BHD", "JOD", "OMR", "TND")] == [3] * 5
    required = "USD EUR GBP CHF CAD AUD SEK NOK DKK PLN CZK INR CNY BRL MXN ZAR JPY KRW KWD BHD"
    assert set(required.split()) <= set(MINOR_UNITS)


@pytest.mark.parametrize("currency", ["XXX", "eur", "", "EURO"])
def test_unknown_currency(currency: str) -> None:
    with pytest.raises(UnknownCurrency):
        minor_unit(currency)
    with pytest.raises(UnknownCurrency):
        round_money(D(1), currency)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        round_money(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        price_line(D(1), 9.99, D(0), D(0), "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]


# --- Money ----------------------------------------------------------------------------------


def test_money_arithmetic_and_comparison() -> None:
    a, b = Money(D("10.50"), "EUR"), Money(D("0.75"), "EUR")

    assert a + b == Money(D("11.25"), "EUR")
    assert a - b == Money(D("9.75"), "EUR")
    assert -b == Money(D("-0.75"), "EUR")
    assert b < a
    assert a >= b
    assert max(a, b) is a
    assert Money.zero("JPY") == Money(D(0), "JPY")
    assert Money(D("1.005"), "EUR").rounded() == Money(D("1.01"), "EUR")
    assert str(Money(D("1E+1"), "EUR")) == "10 EUR"


def test_money_refuses_mixing_currencies() -> None:
    eur, usd = Money(D(1), "EUR"), Money(D(1), "USD")

    with pytest.raises(CurrencyMismatch):
        _ = eur + usd
    with pytest.raises(CurrencyMismatch):
        _ = eur - usd
    with pytest.raises(CurrencyMismatch):
        _ = eur < usd
    assert eur != usd
    with pytest.raises(UnknownCurrency):
        Money(D(1), "ABC")


# --- line pricing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "currency", "expected"),
    [
        # (quantity, unit price, discount, tax rate) -> (base, discount, net, tax, total)
        (("10", "19.99", "9.90", "0.19"), "EUR", ("199.90", "9.90", "190.00", "36.10", "226.10")),
        (("3.5", "95.00", "0", "0.19"), "EUR", ("332.50", "0.00", "332.50", "63.18", "395.68")),
        (("3", "0.333", "0", "0.2"), "GBP", ("1.00", "0.00", "1.00", "0.20", "1.20")),
        (("1", "10.005", "0.005", "0"), "USD", ("10.01", "0.01", "10.00", "0.00", "10.00")),
        (("7", "1234.5", "100", "0.1"), "JPY", ("8642", "100", "8542", "854", "9396")),
        (("2", "1.2345", "0", "0.05"), "KWD", ("2.469", "0.000", "2.469", "0.123", "2.592")),
        (("1", "50", "50", "0.19"), "EUR", ("50.00", "50.00", "0.00", "0.00", "0.00")),
    ],
)
def test_price_line(
    inputs: tuple[str, str, str, str], currency: str, expected: tuple[str, str, str, str, str]
) -> None:
    quantity, price, discount, rate = (D(v) for v in inputs)

    line = price_line(quantity, price, discount, rate, currency)

    assert (line.base, line.discount, line.net, line.tax, line.total) == tuple(
        D(v) for v in expected
    )
    assert [str(a) for a in (line.base, line.tax, line.total)] == [
        expected[0],
        expected[3],
        expected[4],
    ]
    assert line.currency == currency


def test_discount_above_base_is_refused() -> None:
    with pytest.raises(InvalidLine, match="exceeds"):
        price_line(D(1), D("10.00"), D("10.01"), D(0), "EUR")
    assert issubclass(InvalidLine, ValueError)


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "rate"),
    [
        ("0", "1", "0", "0"),
        ("-1", "1", "0", "0"),
        ("1", "-1", "0", "0"),
        ("1", "1", "-0.01", "0"),
        ("1", "1", "0", "1.01"),
        ("1", "1", "0", "-0.1"),
        ("NaN", "1", "0", "0"),
    ],
)
def test_invalid_lines_are_refused(quantity: str, price: str, discount: str, rate: str) -> None:
    with pytest.raises(InvalidLine):
        price_line(D(quantity), D(price), D(discount), D(rate), "EUR")


def test_sum_totals() -> None:
    lines = [
        price_line(D(10), D("19.99"), D("9.90"), D("0.19"), "EUR"),
        price_line(D("3.5"), D("95.00"), D(0), D("0.19"), "EUR"),
    ]

    assert sum_totals(lines, "EUR") == DocumentTotals(
        subtotal=D("532.40"),
        discount_total=D("9.90"),
        net_total=D("522.50"),
        tax_total=D("99.28"),
        grand_total=D("621.78"),
        currency="EUR",
    )
    assert sum_totals([], "JPY") == DocumentTotals(D(0), D(0), D(0), D(0), D(0), "JPY")


def test_sum_totals_refuses_lines_in_another_currency() -> None:
    line = price_line(D(1), D(1), D(0), D(0), "USD")

    with pytest.raises(CurrencyMismatch):
        sum_totals([line], "EUR")


def test_tax_is_rounded_per_line_not_per_document() -> None:
    # Two lines of 0.05 at 10 %: per line 0.005 -> 0.01 each, 0.02 in all; per document 0.01.
    lines = [price_line(D(1), D("0.05"), D(0), D("0.1"), "EUR")] * 2

    assert sum_totals(lines, "EUR").tax_total == D("0.02")


# --- properties -----------------------------------------------------------------------------

currencies = st.sampled_from(sorted(MINOR_UNITS))
quantities = st.decimals(min_value=D("0.001"), max_value=D(10_000), places=3)
prices = st.decimals(min_value=D(0), max_value=D(100_000), places=4)
rates = st.sampled_from([D(0), D("0.05"), D("0.07"), D("0.1"), D("0.19"), D("0.2"), D("0.25")])
fractions = st.decimals(min_value=D(0), max_value=D(1), places=3)


@dataclass(frozen=True)
class Line:
    """What a document line keeps: its inputs and the amounts priced from them."""

    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amounts: LineAmounts


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[Line]]:
    currency = draw(currencies)
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        quantity, price, rate = draw(quantities), draw(prices), draw(rates)
        base = round_money(quantity * price, currency)
        discount = base * draw(fractions)  # never above base, so always a valid line
        amounts = price_line(quantity, price, discount, rate, currency)
        lines.append(Line(quantity, price, rate, amounts))
    return currency, lines


@given(documents())
def test_line_invariants(document: tuple[str, list[Line]]) -> None:
    currency, lines = document
    exponent = -minor_unit(currency)
    for line in (doc_line.amounts for doc_line in lines):
        assert line.net == line.base - line.discount
        assert line.total == line.net + line.tax
        assert 0 <= line.discount <= line.base
        assert line.tax >= 0
        amounts = (line.base, line.discount, line.net, line.tax, line.total)
        assert all(a.as_tuple().exponent == exponent for a in amounts)


@given(documents())
def test_totals_are_the_sums_of_the_rounded_lines(document: tuple[str, list[Line]]) -> None:
    currency, lines = document
    amounts = [line.amounts for line in lines]

    totals = sum_totals(amounts, currency)

    assert totals.subtotal == sum((a.base for a in amounts), D(0))
    assert totals.discount_total == sum((a.discount for a in amounts), D(0))
    assert totals.net_total == sum((a.net for a in amounts), D(0))
    assert totals.tax_total == sum((a.tax for a in amounts), D(0))
    assert totals.grand_total == sum((a.total for a in amounts), D(0))
    assert totals.grand_total == totals.net_total + totals.tax_total
    assert totals.net_total == totals.subtotal - totals.discount_total


@given(documents(), st.randoms(use_true_random=False))
def test_totals_do_not_depend_on_line_order(
    document: tuple[str, list[Line]], random: Random
) -> None:
    currency, lines = document
    amounts = [line.amounts for line in lines]
    shuffled = list(amounts)
    random.shuffle(shuffled)

    assert sum_totals(shuffled, currency) == sum_totals(amounts, currency)


@given(documents())
def test_recomputing_a_document_from_its_own_lines_gives_the_same_totals(
    document: tuple[str, list[Line]],
) -> None:
    # Quote -> order -> invoice: each stage copies the lines (quantity, unit price, the rounded
    # discount, tax rate) and prices them again; every amount must come out identical.
    currency, lines = document
    totals = sum_totals((line.amounts for line in lines), currency)

    repriced = [
        price_line(line.quantity, line.unit_price, line.amounts.discount, line.tax_rate, currency)
        for line in lines
    ]

    assert repriced == [line.amounts for line in lines]
    assert sum_totals(repriced, currency) == totals
    assert all(
        str(a) == str(b)  # same exponent too: "12.30" stays "12.30" on every stage's wire
        for a, b in zip(astuple(sum_totals(repriced, currency)), astuple(totals), strict=True)
    )


# --- purity ---------------------------------------------------------------------------------


def test_money_imports_only_the_standard_library() -> None:
    # The services' pure domain modules import contracts.money (architecture rule 1).
    package = Path(__file__).resolve().parents[2] / "contracts"
    for source in (package / "money.py", package / "__init__.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported = {
            (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert imported <= set(sys.stdlib_module_names) | {"__future__"}, source.name
