"""lead_svc's handlers of events: a lead captured by an upstream system (web forms, trade shows,
imports, partners; `lead.captured`), decided by the qualification policy."""

from __future__ import annotations

from datetime import datetime

from contracts.leads import LeadCaptured
from services.lead_svc import domain, wire
from services.lead_svc.handlers.replies import record
from services.lead_svc.store import LeadBook
from shared.messages import Incoming, Outgoing


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
    return record(book, msg, decision, now)
