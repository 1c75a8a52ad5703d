"""Every change of a lead's state is an event: opened, updated (and the policy deciding again),
reactivated; commands keyed by another deal and quantities no later stage can price are
refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from contracts.envelope import Envelope, decode
from contracts.leads import ContactInfo, ProductInterest, PurchaseTimeframe
from contracts.money import MAX_QUANTITY
from services.lead_svc.domain import LeadState, QualificationPolicy
from services.lead_svc.handlers import HANDLERS, touches_of
from services.lead_svc.store import LeadBook
from shared.messages import Incoming
from tests.support.leads import captured, command

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = QualificationPolicy()


def handle(book: LeadBook, envelope: Envelope[Any]) -> list[tuple[str, Any]]:
    msg = Incoming(envelope, "lead.commands", 0, 0)
    return [
        (o.topic, decode(o.payload or b"").payload)
        for o in HANDLERS[envelope.event_type](book, msg, POLICY, NOW)
    ]


def open_lead(book: LeadBook, lead_id: str = "L1") -> None:
    out = handle(book, captured(lead_id, interests=(), timeframe=PurchaseTimeframe.UNKNOWN))
    assert [t for t, _ in out] == ["lead.opened"]


def test_an_update_that_completes_the_lead_lets_the_policy_qualify_it() -> None:
    book = LeadBook()
    open_lead(book)
    interests = (ProductInterest(sku="SKU-1", quantity=Decimal(3)),)
    out = handle(
        book,
        command(
            "lead.update",
            "L1",
            product_interests=interests,
            purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        ),
    )
    assert [t for t, _ in out][:2] == ["lead.updated", "lead.qualified"]
    updated, qualified = out[0][1], out[1][1]
    assert updated.changed == ("interests", "purchase_timeframe")
    assert updated.missing == ()
    assert qualified.product_interests[0].quantity == Decimal(3)
    assert book.changed["L1"].state is LeadState.QUALIFIED


def test_an_update_that_still_lacks_something_says_what() -> None:
    book = LeadBook()
    open_lead(book)
    [(topic, updated)] = handle(book, command("lead.update", "L1", notes="called back"))
    assert topic == "lead.updated"
    assert updated.missing == ("product_interest", "purchase_timeframe")
    assert book.changed["L1"].profile.notes == "called back"


def test_new_contact_details_replace_the_person_and_may_make_a_duplicate() -> None:
    book = LeadBook()
    handle(book, captured("L0", email="taken@example.com"))
    open_lead(book, "L1")
    person = ContactInfo(first_name="Bo", last_name="B", email="TAKEN@example.com")
    out = handle(book, command("lead.update", "L1", contact=person))
    assert [t for t, _ in out] == ["lead.updated", "lead.disqualified"]
    assert out[0][1].changed == ("contact",)
    assert out[1][1].duplicate_of == "L0"


@pytest.mark.parametrize(
    ("setup", "code"),
    [("qualified", "not_open"), ("none", "unknown_lead"), ("same", "no_change")],
)
def test_update_refusals(setup: str, code: str) -> None:
    book = LeadBook()
    if setup == "qualified":
        handle(book, captured("L1"))
    elif setup == "same":
        open_lead(book)
    notes = None if setup == "same" else "x"
    out = handle(book, command("lead.update", "L1", notes=notes))
    assert [t for t, _ in out] == ["lead.rejected"]
    assert out[0][1].reason_code == code


def test_a_successful_reactivation_is_announced() -> None:
    book = LeadBook()
    open_lead(book)
    handle(book, command("lead.disqualify", "L1"))
    [(topic, payload)] = handle(book, command("lead.reactivate", "L1"))
    assert (topic, payload.lead_id, payload.requested_by) == ("lead.reactivated", "L1", "rep")


@pytest.mark.parametrize("kind", ["lead.qualify", "lead.disqualify", "lead.reactivate"])
def test_a_lead_command_keyed_by_another_deal_is_refused(kind: str) -> None:
    book = LeadBook()
    open_lead(book)
    out = handle(book, command(kind, "L1", deal_id="L2"))
    assert [t for t, _ in out] == ["lead.rejected"]
    assert out[0][1].reason_code == "deal_mismatch"
    assert book.changed["L1"].state is LeadState.OPEN


def test_an_update_keyed_by_another_deal_is_refused() -> None:
    book = LeadBook()
    open_lead(book)
    out = handle(book, command("lead.update", "L1", deal_id="L2", notes="x"))
    assert out[0][1].reason_code == "deal_mismatch"


def test_a_quantity_no_later_stage_could_price_is_refused_at_capture() -> None:
    """The largest quantity the contract accepts (20 digits) overflowed quote_svc's totals and
    dead-lettered there; the bound declared once in contracts.money refuses it here."""
    book = LeadBook()
    huge = "9" * 20
    out = handle(book, captured("L1", interests=(("SKU-1", huge),)))
    assert [t for t, _ in out] == ["lead.rejected"]
    assert out[0][1].reason_code == "quantity_out_of_range"
    assert "L1" not in book.changed
    at_limit = handle(book, captured("L2", interests=(("SKU-1", str(MAX_QUANTITY)),)))
    assert at_limit[0][0] == "lead.qualified"


def test_an_update_batch_names_the_changes_for_the_duplicate_search() -> None:
    envelope = command("lead.update", "L1", notes="x")
    touches = touches_of([Incoming(envelope, "lead.commands", 0, 0)], POLICY, NOW)
    assert touches.lead_ids == {"L1"}
    assert [c.notes for c in touches.lead_changes["L1"]] == ["x"]


def test_several_updates_of_a_lead_in_one_batch_are_all_named_in_order() -> None:
    """The load applies them in turn: each intermediate profile's duplicates are loaded."""
    first = command("lead.update", "L1", notes="a")
    second = command("lead.update", "L1", notes="b")
    batch = [Incoming(e, "lead.commands", 0, n) for n, e in enumerate((first, second))]
    touches = touches_of(batch, POLICY, NOW)
    assert [c.notes for c in touches.lead_changes["L1"]] == ["a", "b"]
