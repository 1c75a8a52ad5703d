"""How lead_svc's handlers answer: each decision taken into the book, and the events it
publishes (a new account or contact announced under its own id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.lead_svc import domain, wire
from services.lead_svc.store import LeadBook
from shared.messages import Incoming, Outgoing
from shared.stage import Replies

REPLIES = Replies.of("lead_svc")


def record(
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
            return out + (record(book, msg, then, now) if then is not None else [])
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
