"""quote_svc's handlers of commands from outside: the customer's answers to a quote as the sales
team or a CRM records them (`quote.commands`: revise, accept, reject), and a person's commands on
opportunities and quotes (`opportunity.commands`, `domain.opportunities`: update, close and reopen
an opportunity, create another quote on it, activate a Draft)."""

from __future__ import annotations

from datetime import datetime

from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    ReopenOpportunity,
    UpdateOpportunity,
)
from contracts.quotes import AcceptQuote, RejectQuote, ReviseQuote
from services.quote_svc import domain, wire
from services.quote_svc.handlers.replies import account_of, record
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming, Outgoing


def on_update_opportunity(
    book: QuoteBook, msg: Incoming[UpdateOpportunity], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.update_opportunity(
        book.opportunity(command.opportunity_id),
        opportunity_id=str(command.opportunity_id),
        deal_id=msg.deal_id,
        estimates=wire.estimates_of(command),
        now=now,
    )
    return record(book, msg, decision, now)


def on_close_opportunity(
    book: QuoteBook, msg: Incoming[CloseOpportunity], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.close_opportunity(
        book.opportunity(command.opportunity_id),
        opportunity_id=str(command.opportunity_id),
        deal_id=msg.deal_id,
        quotes=book.revisions(command.opportunity_id),
        closing=wire.closing_of(command),
        now=now,
    )
    return record(book, msg, decision, now)


def on_reopen_opportunity(
    book: QuoteBook, msg: Incoming[ReopenOpportunity], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.reopen_opportunity(
        book.opportunity(command.opportunity_id),
        opportunity_id=str(command.opportunity_id),
        deal_id=msg.deal_id,
        quotes=book.revisions(command.opportunity_id),
        now=now,
    )
    return record(book, msg, decision, now)


def on_create_quote(
    book: QuoteBook, msg: Incoming[CreateQuote], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.create_quote(
        book.opportunity(command.opportunity_id),
        opportunity_id=str(command.opportunity_id),
        deal_id=msg.deal_id,
        quote_id=command.quote_id,
        existing=book.quote(command.quote_id),
        requests=[wire.request_of(line) for line in command.lines],
        catalog=book.catalog(policy.price_list_id),
        policy=policy,
        quote_number=book.peek_quote_number(now.year),
        now=now,
        volumes=book.volume_lists(policy.price_list_id),
        document=wire.document_discount_of(command),
    )
    if decision is None:
        return []
    return record(book, msg, decision, now)


def on_activate_quote(
    book: QuoteBook, msg: Incoming[ActivateQuote], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    quote = book.quote(command.quote_id)
    opportunity = book.opportunity(quote.opportunity_id) if quote else None
    decision = domain.activate_quote(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=opportunity,
        revisions=book.revisions(quote.opportunity_id) if quote else (),
        policy=policy,
        now=now,
        account=account_of(book, opportunity),
        rates=book.rates,
    )
    return record(book, msg, decision, now)


def on_revise_quote(
    book: QuoteBook, msg: Incoming[ReviseQuote], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    quote = book.quote(command.quote_id)
    opportunity = book.opportunity(quote.opportunity_id) if quote else None
    decision = domain.revise(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=opportunity,
        revisions=book.revisions(quote.opportunity_id) if quote else (),
        requests=[wire.request_of(line) for line in command.lines],
        # A revision is priced from its quote's own price list, not the one new quotes use.
        catalog=book.catalog(quote.price_list_id) if quote else {},
        policy=policy,
        now=now,
        account=account_of(book, opportunity),
        volumes=book.volume_lists(quote.price_list_id) if quote else {},
        document=wire.document_discount_of(command),
        rates=book.rates,
    )
    return record(book, msg, decision, now)


def on_accept_quote(
    book: QuoteBook, msg: Incoming[AcceptQuote], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    quote = book.quote(command.quote_id)
    opportunity = book.opportunity(quote.opportunity_id) if quote else None
    decision = domain.accept(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=opportunity,
        accepted_by=command.accepted_by,
        customer_po=command.customer_po,
        terms=wire.billing_terms_of(command),
        now=now,
        delivery=wire.delivery_terms_of(command),
        account=account_of(book, opportunity),
        revisions=book.revisions(quote.opportunity_id) if quote else (),
    )
    return record(book, msg, decision, now)


def on_reject_quote(
    book: QuoteBook, msg: Incoming[RejectQuote], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    quote = book.quote(command.quote_id)
    reason = wire.reject_reason_of(command.reason)
    decision = domain.reject(
        quote,
        quote_id=str(command.quote_id),
        deal_id=msg.deal_id,
        opportunity=book.opportunity(quote.opportunity_id) if quote else None,
        reason=reason,
        detail=domain.rejection_detail(reason, command.note, command.requested_by),
        now=now,
        revisions=book.revisions(quote.opportunity_id) if quote else (),
    )
    return record(book, msg, decision, now)
