"""How quote_svc's handlers answer: each decision taken into the book, and the events it
publishes (an opportunity announced whenever what a CRM shows of it changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.base import Payload
from services.quote_svc import domain, wire
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming, Outgoing
from shared.stage import Replies

REPLIES = Replies.of("quote_svc")


def remember(book: QuoteBook, account: domain.Account) -> None:
    kept = domain.newer_account(book.account(account.account_id), account)
    if kept is not None:
        book.put_account(kept)


def account_of(book: QuoteBook, opportunity: domain.Opportunity | None) -> domain.Account | None:
    return None if opportunity is None else book.account(opportunity.customer.account_id)


def record(
    book: QuoteBook, msg: Incoming[Any], decision: Decision, now: datetime
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.AlreadyOpen():
            return []
        case domain.Opened(opportunity, quote):
            book.take_quote_number(now.year)
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            return [
                REPLIES.event(msg, wire.opportunity_opened(opportunity), now),
                REPLIES.event(msg, _announced(quote, opportunity), now),
            ]
        case domain.Revised(opportunity, previous, quote, announce_previous):
            events = _changed(book, msg, opportunity, "quote_issued", now)
            book.put_quote(previous)
            book.put_quote(quote)
            if announce_previous:
                closed = wire.quote_closed(
                    previous, domain.CloseStatus.REVISED, decision.closing_detail
                )
                events.insert(0, REPLIES.event(msg, closed, now))
            events.insert(1 if announce_previous else 0, _event(msg, quote, opportunity, now))
            return events
        case domain.Accepted(opportunity, quote, terms, delivery, others):
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            accepted = wire.quote_accepted(quote, opportunity, terms, delivery)
            events = [REPLIES.event(msg, accepted, now)]
            for other in others:
                book.put_quote(other)
                detail = f"quote {quote.quote_number} of the opportunity was won"
                closed = wire.quote_closed(other, domain.CloseStatus.CANCELED, detail)
                events.append(REPLIES.event(msg, closed, now))
            events.append(REPLIES.event(msg, wire.opportunity_closed(opportunity), now))
            return events
        case domain.Expired(quote, refusal):
            book.put_quote(quote)
            closed = wire.quote_closed(quote, domain.CloseStatus.EXPIRED, refusal.detail)
            return [REPLIES.event(msg, closed, now), REPLIES.refusal(msg, refusal, now)]
        case domain.Rejected(opportunity, quote, _reason, detail):
            book.put_opportunity(opportunity)
            book.put_quote(quote)
            events = [REPLIES.event(msg, wire.quote_closed(quote, decision.status, detail), now)]
            if decision.opportunity_closed:
                events.append(REPLIES.event(msg, wire.opportunity_closed(opportunity), now))
            return events
        case _:
            return _record_managed(book, msg, decision, now)


def _record_managed(
    book: QuoteBook,
    msg: Incoming[Any],
    decision: domain.OpportunityChanged
    | domain.OpportunityClosedByPerson
    | domain.QuoteCreated
    | domain.QuoteActivated,
    now: datetime,
) -> list[Outgoing]:
    """What a person's commands on opportunities and quotes decided (`domain.opportunities`)."""
    match decision:
        case domain.OpportunityChanged(opportunity, reason):
            return _changed(book, msg, opportunity, reason, now)
        case domain.OpportunityClosedByPerson(opportunity, closed_quotes):
            book.put_opportunity(opportunity)
            events = []
            for quote in closed_quotes:
                book.put_quote(quote)
                status = domain.CloseStatus(quote.status_reason)
                closed = wire.quote_closed(quote, status, "its opportunity was closed")
                events.append(REPLIES.event(msg, closed, now))
            events.append(REPLIES.event(msg, wire.opportunity_closed(opportunity), now))
            return events
        case domain.QuoteCreated(opportunity, quote):
            book.take_quote_number(now.year)
            book.put_quote(quote)
            return [REPLIES.event(msg, wire.quote_drafted(quote, opportunity), now)]
        case domain.QuoteActivated(opportunity, quote):
            book.put_quote(quote)
            events = [REPLIES.event(msg, wire.quote_issued(quote, opportunity), now)]
            return events + _changed(book, msg, opportunity, "quote_issued", now)


Decision = (
    domain.Decision
    | domain.OpportunityChanged
    | domain.OpportunityClosedByPerson
    | domain.QuoteCreated
    | domain.QuoteActivated
)


def _announced(quote: domain.Quote, opportunity: domain.Opportunity) -> Payload:
    """An Active quote is issued; a Draft is announced so that someone prices or activates it."""
    if quote.state is domain.QuoteState.ACTIVE:
        return wire.quote_issued(quote, opportunity)
    return wire.quote_drafted(quote, opportunity)


def _event(
    msg: Incoming[Any], quote: domain.Quote, opportunity: domain.Opportunity, now: datetime
) -> Outgoing:
    return REPLIES.event(msg, _announced(quote, opportunity), now)


def _changed(
    book: QuoteBook,
    msg: Incoming[Any],
    opportunity: domain.Opportunity,
    reason: str,
    now: datetime,
) -> list[Outgoing]:
    """Keep the opportunity; announce it when what a CRM shows of it changed."""
    changed = domain.changed_fields(book.opportunity(opportunity.opportunity_id), opportunity)
    book.put_opportunity(opportunity)
    if not changed:
        return []
    return [REPLIES.event(msg, wire.opportunity_updated(opportunity, changed, reason), now)]
