"""The lead's decisions, pure: policy on capture, commands and their refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from services.lead_svc import domain
from services.lead_svc.domain import (
    Account,
    AccountData,
    DecidedBy,
    Directory,
    Disqualified,
    DisqualifyReason,
    Interest,
    LeadState,
    Opened,
    Profile,
    QualificationPolicy,
    Qualified,
    Reactivated,
    Refusal,
    normalise_company,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
EVENT = UUID("00000000-0000-4000-8000-000000000001")
POLICY = QualificationPolicy()


def profile(**changes: object) -> Profile:
    base = Profile(
        source="web_form",
        topic="widgets",
        first_name="Ada",
        last_name="Lovelace",
        company_name="Acme Inc.",
        email="ada@acme.example",
        budget_amount=Decimal("5000"),
        currency="EUR",
        purchase_timeframe="this_quarter",
        interests=(Interest("SKU-1", Decimal(2)),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def capture(lead_id: str = "L1", p: Profile | None = None, **kw: object) -> domain.LeadDecision:
    args: dict[str, object] = {
        "deal_id": lead_id,
        "existing": None,
        "candidates": (),
        "directory": Directory(),
        "policy": POLICY,
        "event_id": EVENT,
        "now": NOW,
    }
    args.update(kw)
    return domain.capture(lead_id, p or profile(), **args)  # type: ignore[arg-type]


def test_a_fitting_lead_is_qualified_by_policy_with_minted_lineage() -> None:
    decision = capture()
    assert isinstance(decision, Qualified)
    assert decision.decided_by is DecidedBy.POLICY
    assert decision.rule == "auto:fit"
    assert decision.lead.state is LeadState.QUALIFIED
    assert decision.lead.lineage == decision.lineage
    assert decision.lineage.account_name == "Acme Inc."
    assert decision.lineage.account_is_new


def test_minted_ids_are_deterministic_so_a_replay_mints_the_same() -> None:
    first, again = capture(), capture()
    assert isinstance(first, Qualified) and isinstance(again, Qualified)
    assert first.lineage == again.lineage
    other = capture("L2", profile(email="x@y.example", first_name="Bo"))
    assert isinstance(other, Qualified)
    assert other.lineage.account_id == first.lineage.account_id  # same company, same account
    assert other.lineage.opportunity_id != first.lineage.opportunity_id


def test_an_existing_account_is_linked_not_minted() -> None:
    account = UUID("00000000-0000-4000-8000-00000000abcd")
    decision = capture(
        directory=Directory(accounts={"acme": Account(account, AccountData(name="ACME"))})
    )
    assert isinstance(decision, Qualified)
    assert (decision.lineage.account_id, decision.lineage.account_name) == (account, "ACME")
    assert not decision.lineage.account_is_new


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("Société Générale SA", "societe generale"),
        ("  The   Widget Co. ", "the widget"),
        ("Inc", "inc"),
        (None, None),
        ("", None),
    ],
)
def test_company_names_normalise_to_one_account_key(name: str | None, key: str | None) -> None:
    assert normalise_company(name) == key


def test_no_email_and_no_phone_is_cannot_contact() -> None:
    decision = capture(p=profile(email=None, phone=None))
    assert isinstance(decision, Disqualified)
    assert decision.reason is DisqualifyReason.CANNOT_CONTACT
    assert decision.decided_by is DecidedBy.POLICY


def test_a_phone_alone_is_reachable() -> None:
    assert isinstance(capture(p=profile(email=None, phone="+44 20 7946 0958")), Qualified)


def _lead(lead_id: str, state: LeadState, p: Profile | None = None, age_s: int = 60) -> domain.Lead:
    return domain.Lead(
        lead_id, p or profile(), state, state.value, NOW - timedelta(seconds=age_s), NOW
    )


def test_same_email_as_an_open_or_qualified_lead_is_a_duplicate_of_the_earliest() -> None:
    older = _lead("OLD", LeadState.OPEN, age_s=120)
    newer = _lead("NEW", LeadState.QUALIFIED, age_s=60)
    decision = capture("L9", candidates=(newer, older))
    assert isinstance(decision, Disqualified)
    assert (decision.reason, decision.duplicate_of) == (DisqualifyReason.DUPLICATE, "OLD")


def test_same_company_and_contact_name_is_a_duplicate_even_with_another_email() -> None:
    twin = _lead("T", LeadState.OPEN, profile(email="other@acme.example", company_name="ACME"))
    decision = capture(candidates=(twin,))
    assert isinstance(decision, Disqualified) and decision.duplicate_of == "T"


def test_a_disqualified_twin_is_not_a_duplicate() -> None:
    assert isinstance(capture(candidates=(_lead("T", LeadState.DISQUALIFIED),)), Qualified)


@pytest.mark.parametrize(
    "changes",
    [{"interests": ()}, {"company_name": None}, {"purchase_timeframe": "unknown"}],
)
def test_a_lead_missing_a_qualifying_fact_stays_open(changes: dict[str, object]) -> None:
    decision = capture(p=profile(**changes))
    assert isinstance(decision, Opened)
    assert decision.lead.state is LeadState.OPEN


def test_budget_threshold_and_switches_are_configurable() -> None:
    strict = QualificationPolicy(min_budget=Decimal("10000"))
    assert isinstance(capture(policy=strict), Opened)
    off = QualificationPolicy(auto_qualify=False)
    assert isinstance(capture(policy=off), Opened)
    lenient = QualificationPolicy(disqualify_unreachable=False)
    assert isinstance(capture(p=profile(email=None), policy=lenient), Opened)


def test_a_reused_lead_id_is_refused() -> None:
    decision = capture(existing=_lead("L1", LeadState.OPEN))
    assert isinstance(decision, Refusal) and decision.reason_code == "lead_exists"


def test_a_lead_captured_under_another_deal_is_refused_before_anything_else() -> None:
    decision = capture(deal_id="L2", existing=_lead("L1", LeadState.OPEN))
    assert isinstance(decision, Refusal)
    assert (decision.command, decision.reason_code, decision.subject_id) == (
        "lead.captured",
        "deal_id_mismatch",
        "L1",
    )


def test_qualify_an_open_lead_by_command() -> None:
    decision = domain.qualify(
        _lead("L1", LeadState.OPEN),
        lead_id="L1",
        deal_id="L1",
        candidates=(),
        directory=Directory(),
        event_id=EVENT,
        now=NOW,
    )
    assert isinstance(decision, Qualified) and decision.decided_by is DecidedBy.COMMAND


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (LeadState.QUALIFIED, "already_qualified"),
        (LeadState.DISQUALIFIED, "lead_disqualified"),
        (None, "unknown_lead"),
    ],
)
def test_qualify_refusals(state: LeadState | None, code: str) -> None:
    lead = _lead("L1", state) if state else None
    decision = domain.qualify(
        lead,
        lead_id="L1",
        deal_id="L1",
        candidates=(),
        directory=Directory(),
        event_id=EVENT,
        now=NOW,
    )
    assert isinstance(decision, Refusal) and decision.reason_code == code
    assert decision.command == "lead.qualify"


def test_qualify_is_refused_when_a_twin_is_qualified_but_not_when_it_is_open() -> None:
    lead = _lead("L1", LeadState.OPEN)
    open_twin = _lead("T", LeadState.OPEN)
    qualified_twin = _lead("T", LeadState.QUALIFIED)
    ok = domain.qualify(
        lead,
        lead_id="L1",
        deal_id="L1",
        candidates=(open_twin,),
        directory=Directory(),
        event_id=EVENT,
        now=NOW,
    )
    refused = domain.qualify(
        lead,
        lead_id="L1",
        deal_id="L1",
        candidates=(qualified_twin,),
        directory=Directory(),
        event_id=EVENT,
        now=NOW,
    )
    assert isinstance(ok, Qualified)
    assert isinstance(refused, Refusal) and refused.reason_code == "duplicate"


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (LeadState.QUALIFIED, "opportunity_exists"),
        (LeadState.DISQUALIFIED, "already_disqualified"),
        (None, "unknown_lead"),
    ],
)
def test_disqualify_refusals(state: LeadState | None, code: str) -> None:
    lead = _lead("L1", state) if state else None
    decision = domain.disqualify(
        lead, lead_id="L1", deal_id="L1", reason=DisqualifyReason.LOST, detail="", now=NOW
    )
    assert isinstance(decision, Refusal) and decision.reason_code == code


def test_disqualify_then_reactivate_reopens_the_lead() -> None:
    gone = domain.disqualify(
        _lead("L1", LeadState.OPEN),
        lead_id="L1",
        deal_id="L1",
        reason=DisqualifyReason.NO_LONGER_INTERESTED,
        detail="x",
        now=NOW,
    )
    assert isinstance(gone, Disqualified)
    assert gone.lead.status_reason == "no_longer_interested"
    back = domain.reactivate(gone.lead, lead_id="L1", deal_id="L1", now=NOW)
    assert isinstance(back, Reactivated)
    assert (back.lead.state, back.lead.status_reason) == (LeadState.OPEN, "reactivated")
    again = domain.reactivate(back.lead, lead_id="L1", deal_id="L1", now=NOW)
    assert isinstance(again, Refusal) and again.reason_code == "not_disqualified"


def test_a_company_whose_account_was_renamed_links_the_account_minted_for_its_name() -> None:
    """Qualification minted "Acme"'s account; it is called "Acme Holdings" since. A new lead for
    "Acme" links it (the record minted for that name) instead of announcing a blank version 1."""
    minted = capture()
    assert isinstance(minted, Qualified)
    renamed = replace(
        minted.account, data=AccountData(name="Acme Holdings", tax_id="GB1"), version=4
    )
    directory = Directory(accounts_by_id={renamed.account_id: renamed})
    decision = capture("L2", profile(email="new@acme.example"), directory=directory)
    assert isinstance(decision, Qualified)
    assert decision.account is renamed and not decision.lineage.account_is_new
    assert decision.lineage.account_name == "Acme Holdings"


def test_an_email_once_a_contacts_links_that_contact() -> None:
    first = capture()
    assert isinstance(first, Qualified) and first.new_contact is not None
    moved = replace(first.new_contact, person=replace(first.new_contact.person, email="x@y.z"))
    directory = Directory(contacts_by_id={moved.contact_id: moved})
    decision = capture("L2", profile(company_name="Other Co"), directory=directory)
    assert isinstance(decision, Qualified)
    assert decision.new_contact is None and decision.lineage.contact_id == moved.contact_id


def test_a_persons_account_name_is_cut_to_what_the_contracts_carry() -> None:
    long = profile(company_name=None, first_name="A" * 200, last_name="B" * 200)
    decision = capture(p=long, policy=QualificationPolicy(require_company=False))
    assert isinstance(decision, Qualified)
    assert len(decision.account.display_name) == domain.NAME_LIMIT
