"""Price list CSV parsing (the pure part of `salesflow catalog load`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts.topics import kafka_key
from salesflow.catalog import PriceListError, parse_price_list, price_envelopes
from tests.support.infra import REPO

HEADER = "price_list_id,sku,description,unit_price,currency,tax_rate,unit,active\n"


def test_the_sample_price_list_parses_into_twelve_eur_items() -> None:
    items = parse_price_list((REPO / "samples" / "price_list.csv").read_text(encoding="utf-8"))
    assert len(items) == 12
    by_sku = {i.sku: i for i in items}
    for sku in ("SKU-1", "SKU-1001", "SKU-1002", "SKU-2001", "SKU-3005", "SKU-4000"):
        assert by_sku[sku].active
    assert {i.price_list_id for i in items} == {"STANDARD"}
    assert {i.currency for i in items} == {"EUR"}
    assert {i.tax_rate for i in items} == {Decimal("0.19"), Decimal("0.07")}
    assert by_sku["SKU-1001"].description == "Widget, blue, 10 mm"  # quoted comma
    assert by_sku["SKU-5000"].unit_price == Decimal("8.3750")  # unit prices keep their decimals
    assert not by_sku["SKU-9000"].active


def test_optional_columns_default_and_blank_lines_are_skipped() -> None:
    text = "price_list_id,sku,description,unit_price,currency,tax_rate\n" + (
        " PL-1 , A-1 , Thing , 1.50 , eur , 0.19 \n\n"
    )
    [item] = parse_price_list(text)
    assert (item.price_list_id, item.sku, item.currency, item.unit, item.active) == (
        "PL-1",
        "A-1",
        "EUR",
        "each",
        True,
    )


def test_an_override_replaces_the_files_price_list() -> None:
    text = HEADER + ",A-1,Thing,1.50,EUR,0.19,each,no\n"
    [item] = parse_price_list(text, price_list_id="PL-X")
    assert (item.price_list_id, item.active) == ("PL-X", False)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("STANDARD,A-1,Thing,12.5.0,EUR,0.19,each,true", "line 2: unit_price"),
        ("STANDARD,A-1,Thing,-1,EUR,0.19,each,true", "line 2: unit_price"),
        ("STANDARD,A-1,Thing,1.00,EURO,0.19,each,true", "line 2: currency"),
        ("STANDARD,A-1,Thing,1.00,EUR,19,each,true", "line 2: tax_rate"),
        ("STANDARD,A 1,Thing,1.00,EUR,0.19,each,true", "line 2: sku"),
        (",A-1,Thing,1.00,EUR,0.19,each,true", "line 2: price_list_id"),
        ("STANDARD,A-1,Thing,1.00,EUR,0.19,each,maybe", "line 2: active"),
    ],
)
def test_a_bad_row_refuses_the_file_naming_line_and_field(row: str, message: str) -> None:
    with pytest.raises(PriceListError, match=message):
        parse_price_list(HEADER + row + "\n")


def test_missing_columns_and_repeated_items_are_refused() -> None:
    with pytest.raises(PriceListError, match="missing columns: tax_rate"):
        parse_price_list("price_list_id,sku,description,unit_price,currency\n")
    twice = HEADER + "P,A-1,x,1,EUR,0,each,true\nP,A-1,x,2,EUR,0,each,true\n"
    with pytest.raises(PriceListError, match="line 3: P:A-1 repeats line 2"):
        parse_price_list(twice)


def test_envelopes_are_keyed_by_item_and_carry_the_list_as_deal() -> None:
    items = parse_price_list(HEADER + "PL-1,A-1,Thing,1.50,EUR,0.19,each,true\n")
    now = datetime(2026, 11, 27, tzinfo=UTC)
    [envelope] = price_envelopes(items, now=now)
    assert (envelope.deal_id, envelope.producer, envelope.occurred_at) == (
        "PL-1",
        "catalog-loader",
        now,
    )
    assert envelope.event_type == "catalog.price_upserted"
    assert kafka_key(envelope) == b"PL-1:A-1"
