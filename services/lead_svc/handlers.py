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

from contracts.leads import DisqualifyLead, LeadCaptured, QualifyLead, ReactivateLead
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


def on_qualify_lead(
    book: LeadBook, msg: Incoming[QualifyLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    lead = book.get(command.lead_id)
    decision = domain.qualify(
        lead,
        lead_id=command.lead_id,
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
        reason=wire.reason_of(command),
        detail=wire.detail_of(command),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_reactivate_lead(
    book: LeadBook, msg: Incoming[ReactivateLead], policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.reactivate(book.get(command.lead_id), lead_id=command.lead_id, now=now)
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler[LeadBook, domain.QualificationPolicy]] = {
    "lead.captured": on_lead_captured,
    "lead.qualify": on_qualify_lead,
    "lead.disqualify": on_disqualify_lead,
    "lead.reactivate": on_reactivate_lead,
}


def touches_of(
    batch: Sequence[Incoming[Any]], policy: domain.QualificationPolicy, now: datetime
) -> Touches:
    """The leads the batch's messages name, and the profile of each captured lead by event id
    (built once here: the load reads their keys, the handler reuses them)."""
    return Touches(
        lead_ids=frozenset(msg.payload.lead_id for msg in batch),
        captured_profiles={
            msg.event_id: wire.profile_of(msg.payload)
            for msg in batch
            if isinstance(msg.payload, LeadCaptured)
        },
    )


def _record(
    book: LeadBook, msg: Incoming[Any], decision: domain.Decision, now: datetime
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Captured(lead) | domain.Reactivated(lead):
            book.put(lead)
            return []
        case domain.Qualified(lead, lineage, decided_by, rule):
            book.put(lead)
            book.link(lead, lineage)
            return [REPLIES.event(msg, wire.qualified(lead, lineage, decided_by, rule), now)]
        case domain.Disqualified(lead, reason, decided_by, detail, duplicate_of):
            book.put(lead)
            payload = wire.disqualified(lead, reason, decided_by, detail, duplicate_of)
            return [REPLIES.event(msg, payload, now)]
