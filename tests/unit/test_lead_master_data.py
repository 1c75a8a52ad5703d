"""Accounts and contacts as master data: commands from a CRM and the ERP, who owns which field,
and what the handlers publish (against the in-memory LeadBook)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from contracts.accounts import Authority, LinkErpCustomer, UpsertAccount, UpsertContact
from contracts.documents import PaymentTerms
from contracts.envelope import Envelope, decode
from contracts.leads import ContactInfo
from contracts.parties import AccountDetails, Address
from services.lead_svc import domain
from services.lead_svc.domain import (
    FIELD_OWNERS,
    Account,
    AccountChanged,
    AccountData,
    Contact,
    ContactChanged,
    Person,
    QualificationPolicy,
    Refusal,
    Unchanged,
)
from services.lead_svc.handlers import HANDLERS, touches_of
from services.lead_svc.store import LeadBook
from shared.messages import Incoming, Outgoing
from tests.support.leads import captured, master_data

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ACCOUNT = UUID("00000000-0000-4000-8000-00000000a001")
OTHER = UUID("00000000-0000-4000-8000-00000000a002")
EVENT = UUID(int=7)
LONDON = domain.Address(("1 Engine St",), "London", "GB", "EC1A 1BB")
BERLIN = domain.Address(("Unter den Linden 1",), "Berlin", "DE", "10117")


ERP, CRM = domain.Authority.ERP, domain.Authority.CRM


def acme(**data: Any) -> Account:
    """Acme, named by qualification, each other field set by its owner."""
    owners = {"name": CRM, **{name: domain.FIELD_OWNERS[name] for name in data}}
    return Account(ACCOUNT, AccountData(name="Acme", **data), version=3, set_by=owners)


def upsert(
    existing: Account | None,
    authority: domain.Authority,
    *,
    held_by: UUID | None = None,
    key: str = str(ACCOUNT),
    **sent: Any,
) -> domain.AccountDecision:
    return domain.upsert_account(
        existing,
        AccountData(**sent),
        account_id=ACCOUNT,
        authority=authority,
        number_held_by=held_by,
        deal_id=key,
        key=str(ACCOUNT),
    )


# --- ownership ------------------------------------------------------------------------------


def test_every_published_account_field_has_an_owner() -> None:
    assert set(FIELD_OWNERS) == set(AccountDetails.model_fields)


def test_the_erp_sets_what_it_owns_and_the_version_moves_on() -> None:
    decision = upsert(acme(), domain.Authority.ERP, tax_id="GB123", bill_to=LONDON)
    assert isinstance(decision, AccountChanged)
    assert decision.changed == ("tax_id", "bill_to")
    assert decision.account.version == 4
    assert decision.account.data.name == "Acme"  # untouched


def test_a_field_the_other_system_set_is_kept_and_reported() -> None:
    existing = acme(tax_id="GB123")
    decision = upsert(existing, domain.Authority.CRM, tax_id="GB999", ship_to=BERLIN)
    assert isinstance(decision, AccountChanged)
    assert decision.changed == ("ship_to",)
    assert decision.ignored == ("tax_id",)
    assert decision.account.data.tax_id == "GB123"


def test_a_command_that_only_touches_the_other_systems_fields_is_refused() -> None:
    decision = upsert(acme(ship_to=BERLIN), domain.Authority.ERP, ship_to=LONDON)
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "owned_by_other_system"
    assert "ship_to (crm)" in decision.detail


def test_a_field_set_by_the_other_system_may_be_corrected_by_either() -> None:
    """The ERP set the ship-to when nobody had (allowed): it may correct it later, and the CRM,
    its owner, may too; once the CRM set it, the ERP's change is ignored."""
    first = upsert(acme(), ERP, ship_to=LONDON)
    assert isinstance(first, AccountChanged)
    assert first.account.set_by["ship_to"] is ERP
    again = upsert(first.account, ERP, ship_to=BERLIN)
    assert isinstance(again, AccountChanged) and again.account.data.ship_to == BERLIN
    by_owner = upsert(again.account, CRM, ship_to=LONDON)
    assert isinstance(by_owner, AccountChanged) and by_owner.account.set_by["ship_to"] is CRM
    kept = upsert(by_owner.account, ERP, ship_to=BERLIN)
    assert isinstance(kept, Refusal) and kept.reason_code == "owned_by_other_system"


def test_a_persons_own_account_stays_personal_when_the_erp_completes_it() -> None:
    jane = Account(ACCOUNT, AccountData(name="Jane Doe"), personal=True)
    decision = upsert(jane, ERP, tax_id="GB1")
    assert isinstance(decision, AccountChanged)
    assert decision.account.personal and decision.account.company_key is None


def test_a_field_nobody_set_may_be_set_by_either_system() -> None:
    decision = upsert(acme(), domain.Authority.CRM, tax_id="GB123")
    assert isinstance(decision, AccountChanged) and decision.account.data.tax_id == "GB123"


def test_repeating_what_the_account_says_changes_nothing() -> None:
    assert isinstance(upsert(acme(tax_id="GB1"), domain.Authority.ERP, tax_id="GB1"), Unchanged)


def test_a_new_account_needs_a_name() -> None:
    refused = upsert(None, domain.Authority.ERP, tax_id="GB1")
    assert isinstance(refused, Refusal) and refused.reason_code == "name_required"
    created = upsert(None, domain.Authority.ERP, legal_name="Acme Ltd", tax_id="GB1")
    assert isinstance(created, AccountChanged) and created.created
    assert created.account.version == 1
    assert created.account.display_name == "Acme Ltd"


def test_one_erp_customer_is_one_account() -> None:
    taken = upsert(acme(), domain.Authority.ERP, held_by=OTHER, erp_customer_number="C-1")
    assert isinstance(taken, Refusal) and taken.reason_code == "erp_customer_number_taken"
    mine = upsert(
        acme(erp_customer_number="C-1"),
        domain.Authority.ERP,
        held_by=ACCOUNT,
        erp_customer_number="C-1",
    )
    assert isinstance(mine, Unchanged)


def test_an_account_command_keyed_by_another_account_is_refused() -> None:
    refused = upsert(acme(), domain.Authority.ERP, key=str(OTHER), tax_id="X1")
    assert isinstance(refused, Refusal) and refused.reason_code == "deal_mismatch"


def test_link_erp_customer_needs_a_known_account() -> None:
    decision = domain.link_erp_customer(
        None, "C-9", account_id=ACCOUNT, number_held_by=None, deal_id=str(ACCOUNT)
    )
    assert isinstance(decision, Refusal) and decision.reason_code == "unknown_account"


# --- contacts -------------------------------------------------------------------------------

ADA = Person("Ada", "Lovelace", "ada@acme.example")


def contact(
    account: Account | None,
    person: Person,
    *,
    contact_id: UUID | None = None,
    by_id: Contact | None = None,
    by_email: Contact | None = None,
) -> domain.AccountDecision:
    return domain.upsert_contact(
        account,
        person,
        account_id=ACCOUNT,
        contact_id=contact_id,
        by_id=by_id,
        by_email=by_email,
        deal_id=str(ACCOUNT),
        event_id=EVENT,
    )


def test_a_new_contact_is_minted_by_email_like_qualification_does() -> None:
    decision = contact(acme(), ADA)
    assert isinstance(decision, ContactChanged) and decision.created
    again = contact(acme(), ADA)
    assert isinstance(again, ContactChanged)
    assert again.contact.contact_id == decision.contact.contact_id


def test_a_contact_found_by_email_is_changed_not_duplicated() -> None:
    known = Contact(UUID(int=5), ACCOUNT, ADA)
    decision = contact(acme(), Person("Ada", "King", "ada@acme.example"), by_email=known)
    assert isinstance(decision, ContactChanged) and not decision.created
    assert decision.contact.contact_id == known.contact_id
    assert isinstance(contact(acme(), ADA, by_email=known), Unchanged)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"by_email": Contact(UUID(int=5), OTHER, ADA)}, "contact_of_other_account"),
        (
            {
                "contact_id": UUID(int=6),
                "by_id": Contact(UUID(int=6), ACCOUNT, Person("Bo", "B", "bo@x.example")),
                "by_email": Contact(UUID(int=5), ACCOUNT, ADA),
            },
            "email_taken",
        ),
        (
            {"contact_id": UUID(int=6), "by_email": Contact(UUID(int=5), ACCOUNT, ADA)},
            "email_taken",
        ),
    ],
)
def test_contact_refusals(kwargs: dict[str, Any], code: str) -> None:
    decision = contact(acme(), ADA, **kwargs)
    assert isinstance(decision, Refusal) and decision.reason_code == code


def test_a_contact_with_neither_email_nor_id_is_refused() -> None:
    """Nothing would find it again: the same command resent would create a second person."""
    decision = contact(acme(), Person("Ada", "Lovelace"))
    assert isinstance(decision, Refusal) and decision.reason_code == "contact_needs_email_or_id"


def test_a_contact_needs_a_known_account() -> None:
    decision = contact(None, ADA)
    assert isinstance(decision, Refusal) and decision.reason_code == "unknown_account"


# --- through the handlers -------------------------------------------------------------------


def handle(book: LeadBook, envelope: Envelope[Any]) -> list[tuple[str, Envelope[Any]]]:
    msg = Incoming(envelope, "account.commands", 0, 0)
    out: list[Outgoing] = HANDLERS[envelope.event_type](book, msg, QualificationPolicy(), NOW)
    return [(o.topic, decode(o.payload or b"")) for o in out]


def address(city: str, country: str) -> Address:
    return Address(lines=("1 Main St",), city=city, postal_code="1000", country=country)


def test_an_account_created_by_the_erp_is_found_by_qualification_and_linked() -> None:
    book = LeadBook()
    create = UpsertAccount(
        external_ref="C-10042",
        authority=Authority.ERP,
        details=AccountDetails(
            legal_name="Initech LLC",
            erp_customer_number="C-10042",
            bill_to=address("Austin", "US"),
            payment_terms=PaymentTerms.NET_30,
        ),
        requested_by="erp",
    )
    [(topic, event)] = handle(book, master_data(create, key="C-10042"))
    assert topic == "account.updated"
    assert event.payload.created and event.payload.details.erp_customer_number == "C-10042"
    assert event.deal_id == str(event.payload.account_id)
    out = dict(handle(book, captured("L1", company="INITECH")))
    qualified = out["lead.qualified"].payload
    assert qualified.account_id == event.payload.account_id
    assert not qualified.account_is_new
    assert qualified.account.bill_to.city == "Austin"
    assert "account.updated" not in out  # linked, not created


def test_the_erp_and_the_crm_change_one_account_and_each_change_is_published() -> None:
    book = LeadBook()
    book.keep_account(Account(ACCOUNT, AccountData(name="Acme")))
    erp = UpsertAccount(
        account_id=ACCOUNT,
        authority=Authority.ERP,
        details=AccountDetails(tax_id="GB123456789", ship_to=address("Leeds", "GB")),
        requested_by="erp",
    )
    [(_, first)] = handle(book, master_data(erp, key=str(ACCOUNT)))
    assert first.payload.changed == ("tax_id", "ship_to")  # ship_to unset: the ERP may set it
    crm = UpsertAccount(
        account_id=ACCOUNT,
        authority=Authority.CRM,
        details=AccountDetails(tax_id="XX", ship_to=address("York", "GB")),
        requested_by="crm",
    )
    [(_, second)] = handle(book, master_data(crm, key=str(ACCOUNT)))
    assert second.payload.version == first.payload.version + 1
    assert second.payload.changed == ("ship_to",)
    assert second.payload.ignored == ("tax_id",)
    assert second.payload.details.tax_id == "GB123456789"
    assert book.changed_accounts[ACCOUNT].data.ship_to.city == "York"  # type: ignore[union-attr]


def test_link_erp_customer_and_a_contact_through_the_handlers() -> None:
    book = LeadBook()
    book.keep_account(Account(ACCOUNT, AccountData(name="Acme")))
    link = LinkErpCustomer(account_id=ACCOUNT, erp_customer_number="C-7", requested_by="erp")
    [(topic, linked)] = handle(book, master_data(link, key=str(ACCOUNT)))
    assert (topic, linked.payload.details.erp_customer_number) == ("account.updated", "C-7")
    assert book.holder_of("C-7") == ACCOUNT
    person = ContactInfo(first_name="Ada", last_name="L", email="ada@acme.example")
    add = UpsertContact(account_id=ACCOUNT, contact=person, requested_by="crm")
    [(topic, added)] = handle(book, master_data(add, key=str(ACCOUNT)))
    assert topic == "contact.updated" and added.payload.created
    assert added.deal_id == str(added.payload.contact_id)
    wrong_key = handle(book, master_data(add, key="somebody-else"))
    assert wrong_key[0][1].payload.reason_code == "deal_mismatch"


def test_a_batch_of_account_commands_names_what_the_load_needs() -> None:
    create = UpsertAccount(
        external_ref="C-1",
        authority=Authority.ERP,
        details=AccountDetails(legal_name="X", erp_customer_number="C-1"),
        requested_by="erp",
    )
    person = ContactInfo(first_name="A", last_name="B", email="A@X.example")
    add = UpsertContact(
        account_id=ACCOUNT, contact_id=UUID(int=3), contact=person, requested_by="crm"
    )
    batch = [
        Incoming(master_data(create, key="C-1"), "account.commands", 0, 0),
        Incoming(master_data(add, key=str(ACCOUNT)), "account.commands", 0, 1),
    ]
    touches = touches_of(batch, QualificationPolicy(), NOW)
    assert touches.account_ids == {domain.account_id_for_ref("erp", "C-1"), ACCOUNT}
    assert touches.erp_numbers == {"C-1"}
    assert touches.contact_ids == {UUID(int=3)}
    assert touches.contact_emails == {"a@x.example"}
