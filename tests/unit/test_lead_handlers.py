"""lead_svc handlers against an in-memory LeadBook: state and recorded events, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Envelope, decode
from contracts.leads import PurchaseTimeframe
from services.lead_svc.domain import LeadState, QualificationPolicy
from services.lead_svc.handlers import HANDLERS, touches_of
from services.lead_svc.store import LeadBook, profile_from_json, profile_to_json
from services.lead_svc.wire import profile_of
from shared.messages import Incoming, Outgoing
from tests.support.leads import captured, command

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
POLICY = QualificationPolicy()


def handle(book: LeadBook, envelope: Envelope[Any]) -> list[Outgoing]:
    msg = Incoming(envelope, "lead.captured", 0, 0)
    return HANDLERS[envelope.event_type](book, msg, POLICY, NOW)


def events(out: list[Outgoing]) -> list[tuple[str, Envelope[Any]]]:
    return [(o.topic, decode(o.payload or b"")) for o in out]


def test_a_captured_lead_is_saved_and_its_qualification_recorded() -> None:
    book = LeadBook()
    envelope = captured("L1", company="Initech LLC")
    out = events(handle(book, envelope))
    assert [t for t, _ in out] == ["lead.qualified", "account.updated", "contact.updated"]
    qualified = out[0][1]
    assert qualified.deal_id == "L1"
    assert qualified.causation_id == envelope.event_id
    assert qualified.occurred_at == NOW
    assert book.changed["L1"].state is LeadState.QUALIFIED
    assert [a.display_name for a in book.new_accounts.values()] == ["Initech LLC"]
    account_event, contact_event = out[1][1], out[2][1]
    # Master data travels keyed by its own id (compacted topics keep the latest of each).
    assert account_event.deal_id == str(qualified.payload.account_id)
    assert account_event.payload.created and account_event.payload.version == 1
    assert contact_event.deal_id == str(qualified.payload.contact_id)
    assert qualified.payload.account.name == "Initech LLC"


def test_two_leads_of_one_new_company_in_a_batch_share_one_new_account() -> None:
    book = LeadBook()
    first = events(handle(book, captured("L1", company="Hooli")))[0][1]
    second = events(handle(book, captured("L2", company="hooli, inc.")))[0][1]
    assert first.payload.account_id == second.payload.account_id
    assert first.payload.account_is_new and not second.payload.account_is_new
    assert len(book.new_accounts) == 1


def test_a_duplicate_within_the_same_batch_is_caught() -> None:
    book = LeadBook()
    handle(book, captured("L1", email="same@example.com"))
    out = events(handle(book, captured("L2", email="same@example.com")))
    assert out[0][0] == "lead.disqualified"
    assert out[0][1].payload.duplicate_of == "L1"


def test_a_command_that_does_not_fit_becomes_a_rejection_event() -> None:
    book = LeadBook()
    out = events(handle(book, command("lead.reactivate", "nobody")))
    assert [t for t, _ in out] == ["lead.rejected"]
    rejection = out[0][1].payload
    assert rejection.reason_code == "unknown_lead"
    assert rejection.command_type == "lead.reactivate"
    assert not book.changed


def test_an_open_lead_is_announced_with_what_it_lacks_then_qualified_by_command() -> None:
    book = LeadBook()
    out = events(handle(book, captured("L1", interests=(), timeframe=PurchaseTimeframe.UNKNOWN)))
    assert [t for t, _ in out] == ["lead.opened"]
    assert out[0][1].payload.missing == ("product_interest", "purchase_timeframe")
    assert book.changed["L1"].state is LeadState.OPEN
    out = events(handle(book, command("lead.qualify", "L1")))
    assert out[0][1].payload.qualified_by.value == "command"


def test_deal_id_must_be_the_lead_id_on_capture() -> None:
    envelope = captured("L1")
    wrong = envelope.model_copy(update={"deal_id": "L2"})
    out = events(handle(LeadBook(), wrong))
    assert out[0][1].payload.reason_code == "deal_id_mismatch"


def test_profiles_survive_the_round_trip_through_jsonb() -> None:
    p = profile_of(captured("L1").payload)
    assert profile_from_json(profile_to_json(p)) == p


def test_a_batch_touches_its_leads_and_the_profiles_of_its_captures() -> None:
    first, second = captured("L1"), captured("L2", company="Hooli")
    batch = [
        Incoming(first, "lead.captured", 0, 0),
        Incoming(second, "lead.captured", 0, 1),
        Incoming(command("lead.qualify", "L3"), "lead.commands", 0, 0),
    ]
    touches = touches_of(batch, POLICY, NOW)
    assert touches.lead_ids == {"L1", "L2", "L3"}
    assert dict(touches.captured_profiles) == {
        first.event_id: profile_of(first.payload),
        second.event_id: profile_of(second.payload),
    }
