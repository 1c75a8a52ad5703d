"""lead_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's LeadBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox), and the book is written and
committed with the outbox by the runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.accounts import LinkErpCustomer, UpsertAccount, UpsertContact
from contracts.leads import (
    DisqualifyLead,
    LeadCaptured,
    QualifyLead,
    ReactivateLead,
    UpdateLead,
)
from services.lead_svc import domain, wire
from services.lead_svc.store import LeadBook, Touches
from shared.messages import Incoming, Outgoing
from shared.stage import Handler, Replies

REPLIES = Replies.of("lead_svc")


def on_lead_captured(
    book: LeadBook, msg: Incoming[LeadCaptured], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    captured = msg.payload
    profile = book.captured_profile(msg.event_id) or wire.profile_of(captured)
    decision = domain.capture(
        captured.lead_id,
        profile,
        deal_id=msg.deal_id,
        existing=book.get(captured.lead_id),
        candidates=book.candidates(profile),
        directory=book.directory,
        policy=policy,
        event_id=msg.event_id,
        now=now,
    )
    return _record(book, msg, decision, now)


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
    return _record(book, msg, decision, now, requested_by=command.requested_by)


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
    return _record(book, msg, decision, now)


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
    return _record(book, msg, decision, now)


def on_reactivate_lead(
    book: LeadBook, msg: Incoming[ReactivateLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.reactivate(
        book.get(command.lead_id), lead_id=command.lead_id, deal_id=msg.deal_id, now=now
    )
    return _record(book, msg, decision, now, requested_by=command.requested_by)


def on_upsert_account(
    book: LeadBook, msg: Incoming[UpsertAccount], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    account_id = _account_id(command)
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
    return _record(book, msg, decision, now)


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
    return _record(book, msg, decision, now)


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
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler[LeadBook, domain.QualificationPolicy]] = {
    "lead.captured": on_lead_captured,
    "lead.update": on_update_lead,
    "lead.qualify": on_qualify_lead,
    "lead.disqualify": on_disqualify_lead,
    "lead.reactivate": on_reactivate_lead,
    "account.upsert": on_upsert_account,
    "account.upsert_contact": on_upsert_contact,
    "account.link_erp_customer": on_link_erp_customer,
}


def touches_of(
    batch: Sequence[Incoming[Any]], policy: domain.QualificationPolicy, now: datetime
) -> Touches:
    """The leads, accounts and contacts the batch's messages name; the profile of each
    captured lead by event id (built once here: the load reads their keys, the handler reuses
    them) and the changes of each updated lead (the load finds the duplicates they may make)."""
    lead_ids: set[str] = set()
    profiles = {}
    lead_changes: dict[str, list[domain.ProfileChanges]] = {}
    captured_leads = {}
    account_ids: set[UUID] = set()
    numbers: set[str] = set()
    contact_ids: set[UUID] = set()
    emails: set[str] = set()
    for msg in batch:
        payload = msg.payload
        match payload:
            case LeadCaptured():
                lead_ids.add(payload.lead_id)
                profiles[msg.event_id] = captured_leads[payload.lead_id] = wire.profile_of(payload)
            case UpdateLead():
                lead_ids.add(payload.lead_id)
                lead_changes.setdefault(payload.lead_id, []).append(wire.changes_of(payload))
            case QualifyLead() | DisqualifyLead() | ReactivateLead():
                lead_ids.add(payload.lead_id)
            case UpsertAccount():
                account_ids.add(_account_id(payload))
                if payload.details.erp_customer_number:
                    numbers.add(payload.details.erp_customer_number)
            case LinkErpCustomer():
                account_ids.add(payload.account_id)
                numbers.add(payload.erp_customer_number)
            case UpsertContact():
                account_ids.add(payload.account_id)
                if payload.contact_id is not None:
                    contact_ids.add(payload.contact_id)
                email = domain.fold_email(payload.contact.email)
                if email:
                    emails.add(email)
    return Touches(
        lead_ids=frozenset(lead_ids),
        captured_profiles=profiles,
        lead_changes={lead_id: tuple(changes) for lead_id, changes in lead_changes.items()},
        captured_leads=captured_leads,
        account_ids=frozenset(account_ids),
        erp_numbers=frozenset(numbers),
        contact_ids=frozenset(contact_ids),
        contact_emails=frozenset(emails),
    )


def _account_id(command: UpsertAccount) -> UUID:
    if command.account_id is not None:
        return command.account_id
    return domain.account_id_for_ref(command.authority.value, command.external_ref or "")


def _record(
    book: LeadBook,
    msg: Incoming[Any],
    decision: domain.LeadDecision | domain.AccountDecision,
    now: datetime,
    *,
    requested_by: str = "",
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Opened(lead):
            book.put(lead)
            return [REPLIES.event(msg, wire.opened(decision), now)]
        case domain.Reactivated(lead):
            book.put(lead)
            return [REPLIES.event(msg, wire.reactivated(lead, requested_by), now)]
        case domain.Updated(lead, then=then):
            book.put(lead)
            out = [REPLIES.event(msg, wire.updated(decision, requested_by), now)]
            return out + (_record(book, msg, then, now) if then is not None else [])
        case domain.Qualified(lead, account=account, new_contact=new_contact):
            book.put(lead)
            out = [REPLIES.event(msg, wire.qualified(decision), now)]
            if decision.lineage.account_is_new:
                book.put_account(account, created_by_qualification=True)
                changed = tuple(account.data.sent())
                payload = wire.account_updated(account, changed=changed, created=True)
                out.append(REPLIES.event(msg, payload, now, deal_id=str(account.account_id)))
            if new_contact is not None:
                book.put_contact(new_contact, created_by_qualification=True)
                contact_event = wire.contact_updated(new_contact, created=True)
                deal_id = str(new_contact.contact_id)
                out.append(REPLIES.event(msg, contact_event, now, deal_id=deal_id))
            return out
        case domain.Disqualified(lead):
            book.put(lead)
            return [REPLIES.event(msg, wire.disqualified(decision), now)]
        case domain.AccountChanged(account, changed, ignored, created):
            book.put_account(account)
            payload = wire.account_updated(
                account, changed=changed, ignored=ignored, created=created
            )
            return [REPLIES.event(msg, payload, now, deal_id=str(account.account_id))]
        case domain.ContactChanged(contact, created):
            book.put_contact(contact)
            contact_event = wire.contact_updated(contact, created=created)
            return [REPLIES.event(msg, contact_event, now, deal_id=str(contact.contact_id))]
        case domain.Unchanged():
            return []
