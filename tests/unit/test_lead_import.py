"""Planning a lead import: rows validated by the contract, errors by row and field, stable ids."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.leads import LeadSource
from salesflow.lead_import import plan_import

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HEADER = "lead_id,company_name,first_name,last_name,email,currency,budget_amount"
CSV = f"""{HEADER},product_interests,topic
L-1,Ромашка ООО,Иван,Петров,ivan@romashka.example,EUR,20000,SKU-1001:5,widgets
,株式会社テスト商事,太郎,山田,taro@test.example,JPY,900000,SKU-1001:2;SKU-2001:1,
L-3,Bad Budget,Ann,Lee,ann@x.example,EUR,-5,,x
L-4,No Name,,Lee,nobody@x.example,XXX,10,,x
L-1,Again,A,B,a@b.example,EUR,1,,x
"""


def test_good_rows_become_leads_and_bad_rows_are_listed_by_row_and_field() -> None:
    plan = plan_import(CSV, fmt="csv", campaign_id="CMP-1", now=NOW)
    assert plan.rows == 5
    assert [row for row, _ in plan.envelopes] == [2, 3]
    assert [(e.row, e.field) for e in plan.errors] == [
        (4, "budget_amount"),
        (5, "contact.first_name"),
        (5, "currency"),
        (6, "lead_id"),
    ]
    assert plan.bad_rows == 3
    first, second = (env.payload for _, env in plan.envelopes)
    assert first.company_name == "Ромашка ООО" and first.campaign_id == "CMP-1"
    assert first.source is LeadSource.PURCHASED_LIST
    assert [(i.sku, str(i.quantity)) for i in second.product_interests] == [
        ("SKU-1001", "2"),
        ("SKU-2001", "1"),
    ]
    assert second.lead_id.startswith("IMP-") and second.topic == "株式会社テスト商事"


def test_the_same_file_plans_the_same_event_ids_and_a_changed_row_a_new_one() -> None:
    first = plan_import(CSV, fmt="csv", now=NOW)
    again = plan_import(CSV, fmt="csv", now=datetime(2027, 1, 1, tzinfo=UTC))
    ids = [env.event_id for _, env in first.envelopes]
    assert ids == [env.event_id for _, env in again.envelopes]
    changed = plan_import(CSV.replace("20000", "25000"), fmt="csv", now=NOW)
    assert changed.envelopes[0][1].event_id != ids[0]
    assert changed.envelopes[0][1].deal_id == "L-1"


def test_json_lines_with_broken_lines() -> None:
    text = (
        '{"lead_id": "J-1", "source": "trade_show", "contact": {"first_name": "Ada", '
        '"last_name": "L"}, "topic": "t", "currency": "EUR"}\n'
        "not json\n"
        "[1, 2]\n"
        '{"lead_id": "J-2", "contact": {"first_name": "B"}, "topic": "t", "currency": "EUR"}\n'
    )
    plan = plan_import(text, fmt="jsonl", now=NOW)
    assert plan.rows == 4
    assert [env.payload.lead_id for _, env in plan.envelopes] == ["J-1"]
    assert plan.envelopes[0][1].payload.source is LeadSource.TRADE_SHOW
    assert [(e.row, e.field) for e in plan.errors] == [
        (2, "row"),
        (3, "row"),
        (4, "contact.last_name"),
    ]


def test_a_quantity_above_the_bound_is_a_row_error_not_a_later_refusal() -> None:
    text = f"{HEADER},product_interests\nL-9,Acme,A,B,a@b.example,EUR,1,SKU-1:2000000000\n"
    plan = plan_import(text, fmt="csv", now=NOW)
    assert [(e.row, e.field) for e in plan.errors] == [(2, "product_interests.0.quantity")]
    assert plan.envelopes == []
