"""quote_svc's message handlers: one per consumed message type, and the Stage that runs them.

Each handler reads the same way: load (from the batch's QuoteBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events. Deduplication happened before (the runtime's
inbox), and the book is written and committed with the outbox by the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.catalog import PriceListItemUpserted
from contracts.leads import LeadQualified
from contracts.quotes import AcceptQuote, QuoteLineInput, RejectQuote, ReviseQuote
from contracts.rejections import CommandRejected
from services.quote_svc import domain
from services.quote_svc.model import (
    CloseStatus,
    Contact,
    Customer,
    Qualification,
    QuotePolicy,
    QuoteState,
    RejectReason,
)
from services.quote_svc.pricing import LineRequest, PriceItem
from services.quote_svc.store import QuoteBook, QuoteStore
from services.quote_svc.wire import (
    opportunity_closed,
    quote_accepted,
    quote_closed,
    quote_issued,
)
from shared.messages import Incoming, Outgoing, caused_by

PRODUCER = "quote_svc"

Handler = Callable[[QuoteBook, Incoming, QuotePolicy, datetime], list[Outgoing]]


def on_price_upserted(
    book: QuoteBook, msg: Incoming, policy: QuotePolicy, now: datetime
) -> list[Outgoing]:
    # A fact from the product master, not a command: nothing to refuse and nothing to announce.
    p: PriceListItemUpserted = msg.payload
    book.put_price(
        PriceItem(
            price_list_id=p.price_list_id,
            sku=p.sku,
            description=p.description,
            unit_price=p.unit_price,
            currency=p.currency,
            tax_rate=p.tax_rate,
            unit=p.unit,
            active=p.active,
        )
    )
    return []


def on_lead_qualified(
    book: QuoteBook, msg: Incoming, policy: QuotePolicy, now: datetime
) -> list[Outgoing]:
    q = qualification_of(msg.payload)
    existing = book.opportunity(q.opportunity_id) or book.opportunity_of_lead(q.lead_id)
    decision = domain.open_opportunity(
        q,
        existing=existing,
        catalog=book.catalog(policy.price_list_id),
        policy=policy,
        # Peeked, and taken only when an opportunity is opened: redeliveries burn no numbers.
        quote_number=book.peek_quote_number(now.year),
        now=now,
    )
    if isinstance(decision, domain.Opened):
        book.take_quote_number(now.year)
    return _record(book, msg, decision, now)


def on_revise_quote(
    book: QuoteBook, msg: Incoming, policy: QuotePolicy, now: datetime
) -> list[Outgoing]:
    command: ReviseQuote = msg.payload
    quote = book.quote(command.quote_id)
    opportunity = book.opportunity(quote.opportunity_id) if quote else None
    decision = domain.revise(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=opportunity,
        revisions=book.revisions(quote.opportunity_id) if quote else (),
        requests=[request_of(line) for line in command.lines],
        catalog=book.catalog(quote.price_list_id) if quote else {},
        policy=policy,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_accept_quote(
    book: QuoteBook, msg: Incoming, policy: QuotePolicy, now: datetime
) -> list[Outgoing]:
    command: AcceptQuote = msg.payload
    quote = book.quote(command.quote_id)
    decision = domain.accept(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=book.opportunity(quote.opportunity_id) if quote else None,
        accepted_by=command.accepted_by,
        customer_po=command.customer_po,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_reject_quote(
    book: QuoteBook, msg: Incoming, policy: QuotePolicy, now: datetime
) -> list[Outgoing]:
    command: RejectQuote = msg.payload
    quote = book.quote(command.quote_id)
    decision = domain.reject(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=book.opportunity(quote.opportunity_id) if quote else None,
        reason=RejectReason(command.reason.value),
        detail=command.note or f"{command.reason.value} ({command.requested_by})",
        now=now,
    )
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler] = {
    "catalog.price_upserted": on_price_upserted,
    "lead.qualified": on_lead_qualified,
    "quote.revise": on_revise_quote,
    "quote.accept": on_accept_quote,
    "quote.reject": on_reject_quote,
}

_COMMANDS = (ReviseQuote, AcceptQuote, RejectQuote)


@dataclass(frozen=True)
class QuoteStage:
    """The quote worker's part of every batch (implements shared.consumer.Stage)."""

    store: QuoteStore
    policy: QuotePolicy

    async def apply(
        self, conn: AsyncConnection, batch: Sequence[Incoming], now: datetime
    ) -> list[Outgoing]:
        leads = [m.payload for m in batch if isinstance(m.payload, LeadQualified)]
        commands = [m.payload for m in batch if isinstance(m.payload, _COMMANDS)]
        skus = {i.sku for lead in leads for i in lead.product_interests}
        skus.update(
            line.sku
            for c in commands
            if isinstance(c, ReviseQuote)
            for line in c.lines
            if line.sku is not None
        )
        book = await self.store.load(
            conn,
            opportunity_ids=[lead.opportunity_id for lead in leads],
            lead_ids=[lead.lead_id for lead in leads],
            quote_ids=[c.quote_id for c in commands],
            price_list_ids=[self.policy.price_list_id],
            skus=skus,
            # The counter row is locked only by batches that may open opportunities.
            counter_year=now.year if leads else None,
        )
        outgoing: list[Outgoing] = []
        for msg in batch:
            outgoing.extend(HANDLERS[msg.event_type](book, msg, self.policy, now))
        await self.store.save(conn, book)
        return outgoing


def _record(
    book: QuoteBook, msg: Incoming, decision: domain.Decision, now: datetime
) -> list[Outgoing]:
    def out(payload: object) -> Outgoing:
        return caused_by(msg, payload, producer=PRODUCER, now=now)

    match decision:
        case domain.Refusal():
            return [_refusal(msg, decision, now)]
        case domain.AlreadyOpen():
            return []
        case domain.Opened(opportunity, quote):
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            if quote.state is QuoteState.ACTIVE:
                return [out(quote_issued(quote, opportunity))]
            return []
        case domain.Revised(opportunity, previous, quote, announce_previous):
            book.put_opportunity(opportunity)
            book.put_quote(previous)
            book.put_quote(quote)
            events = []
            if announce_previous:
                detail = f"superseded by revision {quote.revision}"
                events.append(out(quote_closed(previous, CloseStatus.REVISED, detail)))
            events.append(out(quote_issued(quote, opportunity)))
            return events
        case domain.Accepted(opportunity, quote):
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            return [out(quote_accepted(quote, opportunity)), out(opportunity_closed(opportunity))]
        case domain.Expired(quote, refusal):
            book.put_quote(quote)
            return [
                out(quote_closed(quote, CloseStatus.EXPIRED, refusal.detail)),
                _refusal(msg, refusal, now),
            ]
        case domain.Rejected(opportunity, quote, reason, detail):
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            return [
                out(quote_closed(quote, CloseStatus(reason.value), detail)),
                out(opportunity_closed(opportunity)),
            ]


def _refusal(msg: Incoming, refusal: domain.Refusal, now: datetime) -> Outgoing:
    payload = CommandRejected(
        command_event_id=msg.event_id,
        command_type=msg.event_type,
        reason_code=refusal.reason_code,
        detail=refusal.detail,
        subject_id=refusal.subject_id,
    )
    return caused_by(msg, payload, producer=PRODUCER, now=now, event_type="quote.rejected")


def qualification_of(lead: LeadQualified) -> Qualification:
    c = lead.contact
    return Qualification(
        lead_id=lead.lead_id,
        opportunity_id=lead.opportunity_id,
        topic=lead.topic,
        customer=Customer(
            account_id=lead.account_id,
            account_name=lead.account_name,
            contact_id=lead.contact_id,
            contact=Contact(
                first_name=c.first_name,
                last_name=c.last_name,
                email=c.email,
                phone=c.phone,
                job_title=c.job_title,
            ),
        ),
        currency=lead.currency,
        interests=tuple(
            LineRequest(sku=i.sku, quantity=i.quantity, description=i.description)
            for i in lead.product_interests
        ),
        estimated_revenue=lead.estimated_revenue,
        estimated_close_date=lead.estimated_close_date,
    )


def request_of(line: QuoteLineInput) -> LineRequest:
    return LineRequest(
        sku=line.sku,
        quantity=line.quantity,
        description=line.description,
        unit_price=line.unit_price,
        discount_amount=line.discount_amount,
        tax_rate=line.tax_rate,
    )
