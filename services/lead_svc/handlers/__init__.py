"""lead_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's LeadBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox), and the book is written and
committed with the outbox by the runtime.

The handlers live by role: `commands` (from people and outside systems), `events` (facts from
other stages, upstream systems and the clock), `replies` (a decision taken into the book and the
events it publishes); this module holds the table and `touches_of`.
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
from services.lead_svc.handlers.commands import (
    account_id_of,
    on_disqualify_lead,
    on_link_erp_customer,
    on_qualify_lead,
    on_reactivate_lead,
    on_update_lead,
    on_upsert_account,
    on_upsert_contact,
)
from services.lead_svc.handlers.events import on_lead_captured
from services.lead_svc.store import LeadBook, Touches
from shared.messages import Incoming
from shared.stage import Handler

__all__ = ["HANDLERS", "touches_of"]

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
                account_ids.add(account_id_of(payload))
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
