"""lead_svc's message handlers: one per consumed message type, and the Stage that runs them.

Each handler reads the same way: load (from the batch's LeadBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events. Deduplication happened before (the runtime's
inbox), and the book is written and committed with the outbox by the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.leads import (
    ContactInfo,
    DisqualificationReason,
    DisqualifyLead,
    LeadCaptured,
    LeadDisqualified,
    LeadQualified,
    ProductInterest,
    QualifyLead,
    ReactivateLead,
)
from contracts.leads import (
    DecidedBy as WireDecidedBy,
)
from contracts.rejections import CommandRejected
from services.lead_svc import domain
from services.lead_svc.store import LeadBook, LeadStore
from shared.messages import Incoming, Outgoing, caused_by

PRODUCER = "lead_svc"

Handler = Callable[[LeadBook, Incoming, domain.QualificationPolicy, datetime], list[Outgoing]]


def on_lead_captured(
    book: LeadBook, msg: Incoming, policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    captured: LeadCaptured = msg.payload
    if msg.deal_id != captured.lead_id:
        return [
            _refusal(
                msg,
                domain.Refusal(
                    "lead.captured",
                    "deal_id_mismatch",
                    "a lead starts its own deal: deal_id must equal lead_id",
                    captured.lead_id,
                ),
                now,
            )
        ]
    profile = book.captured_profiles.get(msg.event_id) or profile_of(captured)
    decision = domain.capture(
        captured.lead_id,
        profile,
        existing=book.get(captured.lead_id),
        candidates=book.candidates(profile),
        directory=book.directory,
        policy=policy,
        event_id=msg.event_id,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_qualify_lead(
    book: LeadBook, msg: Incoming, policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command: QualifyLead = msg.payload
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
    book: LeadBook, msg: Incoming, policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command: DisqualifyLead = msg.payload
    decision = domain.disqualify(
        book.get(command.lead_id),
        lead_id=command.lead_id,
        reason=domain.DisqualifyReason(command.reason.value),
        detail=command.note or f"disqualified by {command.requested_by}",
        now=now,
    )
    return _record(book, msg, decision, now)


def on_reactivate_lead(
    book: LeadBook, msg: Incoming, policy: domain.QualificationPolicy, now: datetime
) -> list[Outgoing]:
    command: ReactivateLead = msg.payload
    decision = domain.reactivate(book.get(command.lead_id), lead_id=command.lead_id, now=now)
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler] = {
    "lead.captured": on_lead_captured,
    "lead.qualify": on_qualify_lead,
    "lead.disqualify": on_disqualify_lead,
    "lead.reactivate": on_reactivate_lead,
}


@dataclass(frozen=True)
class LeadStage:
    """The lead worker's part of every batch (implements shared.consumer.Stage)."""

    store: LeadStore
    policy: domain.QualificationPolicy

    async def apply(
        self, conn: AsyncConnection, batch: Sequence[Incoming], now: datetime
    ) -> list[Outgoing]:
        lead_ids = [msg.payload.lead_id for msg in batch]
        profiles = {
            m.event_id: profile_of(m.payload) for m in batch if isinstance(m.payload, LeadCaptured)
        }
        book = await self.store.load(conn, lead_ids, profiles.values())
        book.captured_profiles = profiles
        outgoing: list[Outgoing] = []
        for msg in batch:
            outgoing.extend(HANDLERS[msg.event_type](book, msg, self.policy, now))
        await self.store.save(conn, book)
        return outgoing


def _record(
    book: LeadBook, msg: Incoming, decision: domain.Decision, now: datetime
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [_refusal(msg, decision, now)]
        case domain.Captured(lead) | domain.Reactivated(lead):
            book.put(lead)
            return []
        case domain.Qualified(lead, lineage, decided_by, rule):
            book.put(lead)
            book.link(lead, lineage)
            return [
                caused_by(
                    msg, _qualified(lead, lineage, decided_by, rule), producer=PRODUCER, now=now
                )
            ]
        case domain.Disqualified(lead, reason, decided_by, detail, duplicate_of):
            book.put(lead)
            payload = LeadDisqualified(
                lead_id=lead.lead_id,
                reason=DisqualificationReason(reason.value),
                duplicate_of=duplicate_of,
                disqualified_by=WireDecidedBy(decided_by.value),
                detail=detail,
            )
            return [caused_by(msg, payload, producer=PRODUCER, now=now)]


def _qualified(
    lead: domain.Lead, lineage: domain.Lineage, decided_by: domain.DecidedBy, rule: str
) -> LeadQualified:
    p = lead.profile
    return LeadQualified(
        lead_id=lead.lead_id,
        account_id=lineage.account_id,
        account_name=lineage.account_name,
        account_is_new=lineage.account_is_new,
        contact_id=lineage.contact_id,
        contact=ContactInfo(
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
            phone=p.phone,
            job_title=p.job_title,
        ),
        opportunity_id=lineage.opportunity_id,
        topic=p.topic,
        estimated_revenue=p.estimated_amount,
        currency=p.currency,
        estimated_close_date=p.estimated_close_date,
        product_interests=tuple(
            ProductInterest(sku=i.sku, quantity=i.quantity, description=i.description)
            for i in p.interests
        ),
        qualified_by=WireDecidedBy(decided_by.value),
        rule=rule,
    )


def _refusal(msg: Incoming, refusal: domain.Refusal, now: datetime) -> Outgoing:
    payload = CommandRejected(
        command_event_id=msg.event_id,
        command_type=msg.event_type,
        reason_code=refusal.reason_code,
        detail=refusal.detail,
        subject_id=refusal.subject_id,
    )
    return caused_by(msg, payload, producer=PRODUCER, now=now, event_type="lead.rejected")


def profile_of(captured: LeadCaptured) -> domain.Profile:
    c = captured.contact
    return domain.Profile(
        source=captured.source.value,
        topic=captured.topic,
        first_name=c.first_name,
        last_name=c.last_name,
        company_name=captured.company_name,
        email=c.email,
        phone=c.phone,
        job_title=c.job_title,
        budget_amount=captured.budget_amount,
        currency=captured.currency,
        purchase_timeframe=captured.purchase_timeframe.value,
        interests=tuple(
            domain.Interest(i.sku, i.quantity, i.description) for i in captured.product_interests
        ),
        estimated_amount=captured.estimated_amount,
        estimated_close_date=captured.estimated_close_date,
        notes=captured.notes,
    )
