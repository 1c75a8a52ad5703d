"""Master data through lead_svc on real Kafka and PostgreSQL: the ERP creates an account by its
customer number, qualification links a lead of that company to it and carries its master data,
the CRM and the ERP change it (ownership kept), contacts are upserted, and the stored rows and
the compacted topics agree."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.accounts import Authority, UpsertAccount, UpsertContact
from contracts.documents import PaymentTerms
from contracts.envelope import decode
from contracts.leads import ContactInfo, PurchaseTimeframe
from contracts.parties import AccountDetails, Address
from services.lead_svc.domain import account_id_for_ref
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import captured, command, master_data, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

TOPICS = (
    "account.updated",
    "contact.updated",
    "lead.qualified",
    "lead.disqualified",
    "lead.rejected",
)


def address(line: str, city: str, country: str) -> Address:
    return Address(lines=(line,), city=city, postal_code="12345", country=country)


async def test_erp_and_crm_master_data_reach_qualification_and_the_topics(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    number = f"C-{run}"
    account_id = account_id_for_ref("erp", number)
    key = str(account_id)
    create = UpsertAccount(
        external_ref=number,
        authority=Authority.ERP,
        details=AccountDetails(
            legal_name=f"ООО Ромашка {run}",
            erp_customer_number=number,
            tax_id="RU7701234567",
            bill_to=address("ул. Тверская, 1", "Москва", "RU"),
            payment_terms=PaymentTerms.NET_30,
            default_currency="EUR",
        ),
        requested_by="erp-connector",
    )
    crm_change = UpsertAccount(
        account_id=account_id,
        authority=Authority.CRM,
        details=AccountDetails(ship_to=address("Склад 7", "Химки", "RU"), tax_id="RU0000000000"),
        requested_by="crm-sync",
    )
    erp_only_crm_field = UpsertAccount(
        account_id=account_id,
        authority=Authority.ERP,
        details=AccountDetails(ship_to=address("Elsewhere 1", "Berlin", "DE")),
        requested_by="erp-connector",
    )
    person = ContactInfo(first_name="Иван", last_name="Петров", email=f"ivan.{run}@example.com")
    add_contact = UpsertContact(account_id=account_id, contact=person, requested_by="crm-sync")
    # A lead of the same company, written another way: qualification must link the account.
    lead = captured(f"L-{run}", company=f"ромашка {run}", email=f"buyer.{run}@example.com")

    reader = await TopicReader(endpoints.kafka, TOPICS).start()
    try:
        async with lead_worker(endpoints):
            await publish(
                endpoints.kafka, [record_of("account.commands", master_data(create, key=number))]
            )
            await reader.collect(lambda rs: _count(rs, key, "account.updated") >= 1)
            await publish(
                endpoints.kafka,
                [
                    record_of("account.commands", master_data(crm_change, key=key)),
                    record_of("account.commands", master_data(erp_only_crm_field, key=key)),
                    record_of("account.commands", master_data(add_contact, key=key)),
                ],
            )
            await reader.collect(lambda rs: _count(rs, key, "lead.rejected") >= 1)
            await publish(endpoints.kafka, [record_of("lead.captured", lead)])
            records = await reader.collect(
                lambda rs: any(
                    r.topic == "lead.qualified" and r.key == lead.deal_id.encode() for r in rs
                )
            )
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    account_events = [
        decode(r.value).payload
        for r in records
        if r.key == key.encode() and r.topic == "account.updated"
    ]
    assert [e.version for e in account_events] == [1, 2]
    assert account_events[0].created
    assert account_events[1].changed == ("ship_to",)
    assert account_events[1].ignored == ("tax_id",)  # the ERP's, set: kept
    [refused] = [
        decode(r.value).payload
        for r in records
        if r.topic == "lead.rejected" and r.key == key.encode()
    ]
    assert refused.reason_code == "owned_by_other_system"
    contact_events = [
        decode(r.value)
        for r in records
        if r.topic == "contact.updated" and decode(r.value).payload.account_id == account_id
    ]
    # The CRM's contact, then the buyer qualification added to the account.
    emails = [e.payload.contact.email for e in contact_events]
    assert emails == [person.email, lead.payload.contact.email]
    assert all(e.deal_id == str(e.payload.contact_id) for e in contact_events)

    [qualified] = [
        decode(r.value).payload
        for r in records
        if r.topic == "lead.qualified" and r.key == lead.deal_id.encode()
    ]
    assert qualified.account_id == account_id and not qualified.account_is_new
    assert qualified.account.erp_customer_number == number
    assert qualified.account.tax_id == "RU7701234567"
    assert qualified.account.ship_to.city == "Химки"
    assert qualified.source.value == "web_form"

    row = await _account_row(endpoints, account_id)
    assert row["version"] == 2 and row["erp_customer_number"] == number
    assert row["ship_to"]["city"] == "Химки"


def _count(records: list[Any], key: str, topic: str) -> int:
    return sum(1 for r in records if r.topic == topic and r.key == key.encode())


async def _account_row(endpoints: Endpoints, account_id: UUID) -> dict[str, Any]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM lead_svc.accounts WHERE account_id = :id"), {"id": account_id}
            )
            return dict(result.one()._mapping)
    finally:
        await engine.dispose()


# A worker fetches the lead.captured and lead.commands partitions in turn: now and then the
# first fetch after the restart holds the updates without the capture, and the updates are
# rightly refused ("unknown_lead"). That run did not set up the case; it is tried again.
SETUP_ATTEMPTS = 3


async def _capture_and_two_updates(endpoints: Endpoints) -> tuple[Any, list[tuple[str, Any]]]:
    run = new_run_id()
    original = captured(f"O-{run}", email=f"same.{run}@example.com")
    lead = captured(f"U-{run}", interests=(), timeframe=PurchaseTimeframe.UNKNOWN)
    person = ContactInfo(first_name="Bo", last_name="B", email=f"SAME.{run}@example.com")
    first = command("lead.update", lead.deal_id, contact=person)
    second = command("lead.update", lead.deal_id, notes="called back")
    reader = await TopicReader(endpoints.kafka, TOPICS).start()
    try:
        async with lead_worker(endpoints):
            await publish(endpoints.kafka, [record_of("lead.captured", original)])
            await reader.collect(lambda rs: any(r.key == original.deal_id.encode() for r in rs))
        # Published while no worker runs: the next one reads them in one batch.
        await publish(
            endpoints.kafka,
            [
                record_of("lead.captured", lead),
                record_of("lead.commands", first),
                record_of("lead.commands", second),
            ],
        )
        async with lead_worker(endpoints):
            records = await reader.collect(
                lambda rs: any(
                    r.topic in ("lead.disqualified", "lead.qualified")
                    and r.key == lead.deal_id.encode()
                    for r in rs
                )
            )
    finally:
        await reader.stop()
    outcomes = [
        (r.topic, decode(r.value).payload) for r in records if r.key == lead.deal_id.encode()
    ]
    return original, outcomes


async def test_a_capture_and_two_updates_in_one_batch_meet_the_duplicate(
    endpoints: Endpoints,
) -> None:
    """The load applies a batch's updates of one lead in turn, from the profile just captured:
    the first update gives the lead the email of a qualified lead, the second only a note; the
    lead is a duplicate (the candidates of every intermediate profile were loaded)."""
    for _ in range(SETUP_ATTEMPTS):
        original, outcomes = await _capture_and_two_updates(endpoints)
        read_before_capture = any(
            t == "lead.rejected" and p.reason_code == "unknown_lead" for t, p in outcomes
        )
        if not read_before_capture:
            break
    decided = [(t, p) for t, p in outcomes if t in ("lead.qualified", "lead.disqualified")]
    assert [t for t, _ in decided] == ["lead.disqualified"], outcomes
    assert decided[0][1].duplicate_of == original.deal_id
