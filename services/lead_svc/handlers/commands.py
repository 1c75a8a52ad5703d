"""lead_svc's handlers of commands from outside: a person's on leads (`lead.commands`: update,
qualify, disqualify, reactivate) and the CRM's or the ERP's on master data (`account.commands`:
accounts and contacts upserted, an ERP customer number linked)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.accounts import LinkErpCustomer, UpsertAccount, UpsertContact
from contracts.leads import (
    DisqualifyLead,
    QualifyLead,
    ReactivateLead,
    UpdateLead,
)
from services.lead_svc import domain, wire
from services.lead_svc.handlers.replies import record
from services.lead_svc.store import LeadBook
from shared.messages import Incoming, Outgoing


def on_update_lead(
    book: LeadBook, msg: Incoming[UpdateLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    lead = book.get(command.lead_id)
    changes = wire.changes_of(command)
    decision = domain.update(
        lead,
        changes,
        lead_id=command.lead_id,
        deal_id=msg.deal_id,
        candidates=book.candidates(domain.amend(lead.profile, changes)[0]) if lead else (),
        directory=book.directory,
        policy=policy,
        event_id=msg.event_id,
        now=now,
    )
    return record(book, msg, decision, now, requested_by=command.requested_by)


def on_qualify_lead(
    book: LeadBook, msg: Incoming[QualifyLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    lead = book.get(command.lead_id)
    decision = domain.qualify(
        lead,
        lead_id=command.lead_id,
        deal_id=msg.deal_id,
        candidates=book.candidates(lead.profile) if lead else (),
        directory=book.directory,
        event_id=msg.event_id,
        now=now,
    )
    return record(book, msg, decision, now)


def on_disqualify_lead(
    book: LeadBook, msg: Incoming[DisqualifyLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.disqualify(
        book.get(command.lead_id),
        lead_id=command.lead_id,
        deal_id=msg.deal_id,
        reason=wire.reason_of(command),
        detail=wire.detail_of(command),
        now=now,
    )
    return record(book, msg, decision, now)


def on_reactivate_lead(
    book: LeadBook, msg: Incoming[ReactivateLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.reactivate(
        book.get(command.lead_id), lead_id=command.lead_id, deal_id=msg.deal_id, now=now
    )
    return record(book, msg, decision, now, requested_by=command.requested_by)


def on_upsert_account(
    book: LeadBook, msg: Incoming[UpsertAccount], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    account_id = account_id_of(command)
    sent = wire.account_data_of(command.details)
    decision = domain.upsert_account(
        book.account(account_id),
        sent,
        account_id=account_id,
        authority=domain.Authority(command.authority.value),
        number_held_by=book.holder_of(sent.erp_customer_number),
        deal_id=msg.deal_id,
        key=str(command.account_id) if command.account_id else command.external_ref or "",
    )
    return record(book, msg, decision, now)


def on_upsert_contact(
    book: LeadBook, msg: Incoming[UpsertContact], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    person = wire.person_of(command.contact)
    decision = domain.upsert_contact(
        book.account(command.account_id),
        person,
        account_id=command.account_id,
        contact_id=command.contact_id,
        by_id=book.contact(command.contact_id),
        by_email=book.contact_by_email(domain.fold_email(person.email)),
        deal_id=msg.deal_id,
        event_id=msg.event_id,
    )
    return record(book, msg, decision, now)


def on_link_erp_customer(
    book: LeadBook,
    msg: Incoming[LinkErpCustomer],
    policy: domain.QualificationPolicy,
    now: datetime,
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.link_erp_customer(
        book.account(command.account_id),
        command.erp_customer_number,
        account_id=command.account_id,
        number_held_by=book.holder_of(command.erp_customer_number),
        deal_id=msg.deal_id,
    )
    return record(book, msg, decision, now)


def account_id_of(command: UpsertAccount) -> UUID:
    if command.account_id is not None:
        return command.account_id
    return domain.account_id_for_ref(command.authority.value, command.external_ref or "")
