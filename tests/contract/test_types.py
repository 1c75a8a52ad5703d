"""The value types of the published language and the few cross-field rules of the contracts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.base import (
    TOLERANT,
    AwareUtc,
    CurrencyCode,
    DecimalStr,
    ExternalId,
    NonNegativeDecimal,
    Quantity,
    TaxRate,
    is_tolerant,
)
from contracts.documents import DocumentLine, DocumentTotals
from contracts.invoices import RecordPayment
from contracts.leads import ContactInfo
from contracts.quotes import QuoteLineInput
from tests.contract.payload_examples import AT, LINES, TOTALS

DECIMAL = TypeAdapter(DecimalStr)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("-3", Decimal(-3)),
        ("0.000000000001", Decimal("1E-12")),
        (7, Decimal(7)),
        (Decimal("1E+2"), Decimal(100)),
    ],
)
def test_decimal_accepts_strings_ints_and_decimals(raw: object, expected: Decimal) -> None:
    value = DECIMAL.validate_python(raw)

    assert value == expected
    assert isinstance(value, Decimal)


@pytest.mark.parametrize(
    "raw",
    [
        1.5,
        "1e3",
        " 1",
        "1 ",
        "1_000",
        "NaN",
        "Infinity",
        "+1",
        ".5",
        "1.",
        "١٢",  # Arabic-Indic digits: Decimal() would accept them
        "12.50\n",
        "0.0000000000001",  # 13 decimals
        True,
        None,
        [],
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_decimal_rejects_everything_else(raw: object) -> None:
    with pytest.raises(ValidationError):
        DECIMAL.validate_python(raw)


def test_decimal_serialises_as_a_plain_string() -> None:
    assert DECIMAL.dump_json(Decimal("1E+2")) == b'"100"'
    assert DECIMAL.dump_json(Decimal("12.50")) == b'"12.50"'
    assert DECIMAL.dump_python(Decimal("12.50")) == Decimal("12.50")


@pytest.mark.parametrize(
    ("adapter", "ok", "bad"),
    [
        (TypeAdapter(Quantity), ["1", "0.001", "10.5"], ["0", "0.000", "-1"]),
        (TypeAdapter(NonNegativeDecimal), ["0", "0.00", "5"], ["-0.01", "-1"]),
        (TypeAdapter(TaxRate), ["0", "0.19", "1", "1.000"], ["1.01", "-0.1", "19", "2"]),
    ],
)
def test_bounded_decimals(adapter: TypeAdapter[Decimal], ok: list[str], bad: list[str]) -> None:
    assert [adapter.validate_python(v) for v in ok] == [Decimal(v) for v in ok]
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_currency_codes_must_be_known() -> None:
    currency = TypeAdapter(CurrencyCode)

    assert currency.validate_python("JPY") == "JPY"
    for bad in ("eur", "EURO", "XXX", ""):
        with pytest.raises(ValidationError):
            currency.validate_python(bad)


def test_external_ids() -> None:
    external = TypeAdapter(ExternalId)

    assert external.validate_python("ERP:INV/2025-001.a_b") == "ERP:INV/2025-001.a_b"
    for bad in ("", "-leading", "has space", "x" * 65, "tab\t", "é"):
        with pytest.raises(ValidationError):
            external.validate_python(bad)


def test_aware_utc() -> None:
    aware = TypeAdapter(AwareUtc)

    assert aware.validate_python("2025-01-20T15:03:00+01:00") == AT
    assert aware.validate_python("2025-01-20T15:03:00+01:00").tzinfo is UTC
    with pytest.raises(ValidationError, match="timezone"):
        aware.validate_python(datetime(2025, 1, 20))  # noqa: DTZ001 - a naive datetime is the invalid input under test


@pytest.mark.parametrize("email", ["a@b", "no-at.example.com", "a b@example.com", "a@b@c.com"])
def test_email_syntax_is_checked(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        ContactInfo.model_validate({"first_name": "A", "last_name": "B", "email": email})


def test_tolerance_needs_the_explicit_flag() -> None:
    assert is_tolerant(TOLERANT)
    assert is_tolerant({"tolerant": True})
    assert not is_tolerant({"tolerant": "yes"})
    assert not is_tolerant(None)
    assert not is_tolerant(["tolerant"])


def test_a_write_in_line_needs_price_description_and_tax() -> None:
    with pytest.raises(ValidationError, match="write-in"):
        QuoteLineInput(quantity=Decimal(1), unit_price=Decimal(10))

    line = QuoteLineInput(
        quantity=Decimal(1), unit_price=Decimal(10), description="Setup", tax_rate=Decimal(0)
    )
    assert line.discount_amount == Decimal(0)
    assert QuoteLineInput(sku="SKU-1", quantity=Decimal(1)).unit_price is None


def test_a_payment_names_an_invoice() -> None:
    payment: dict[str, Any] = {
        "payment_id": "PAY-1",
        "amount": "10.00",
        "currency": "EUR",
        "paid_at": "2025-02-14T09:30:00Z",
    }

    with pytest.raises(ValidationError, match="invoice_id or external_invoice_id"):
        RecordPayment.model_validate(payment)
    assert RecordPayment.model_validate({**payment, "external_invoice_id": "E-1"}).amount == 10


def test_document_line_priced_fills_the_rounded_amounts() -> None:
    line = LINES[1]

    assert line.write_in is True
    assert line.sku is None
    assert (line.base_amount, line.net_amount, line.tax_amount, line.total_amount) == (
        Decimal("332.50"),
        Decimal("332.50"),
        Decimal("63.18"),  # 63.175 rounds half up
        Decimal("395.68"),
    )


def test_totals_convert_between_wire_and_domain_forms() -> None:
    domain = TOTALS.to_money("EUR")

    assert DocumentTotals.from_money(domain) == TOTALS
    assert domain.grand_total == Decimal("621.78")
    assert [line.amounts("EUR").total for line in LINES] == [Decimal("226.10"), Decimal("395.68")]
    assert isinstance(LINES[0], DocumentLine)
