"""quote_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's QuoteBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency
(one opportunity per qualified lead) is decided in the domain, because upstream retries come
under new event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.accounts import AccountUpdated
from contracts.catalog import PriceListItemUpserted, VolumeDiscountUpserted
from contracts.leads import LeadQualified
from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    ReopenOpportunity,
    UpdateOpportunity,
)
from contracts.quotes import AcceptQuote, RejectQuote, ReviseQuote
from contracts.rates import ExchangeRatePublished
from contracts.ticks import TimeTicked
from services.quote_svc import domain, wire
from services.quote_svc.handlers.people import (
    on_activate_quote,
    on_close_opportunity,
    on_create_quote,
    on_reopen_opportunity,
    on_update_opportunity,
)
from services.quote_svc.handlers.replies import REPLIES, account_of, record, remember
from services.quote_svc.store import QuoteBook, Touches
from shared.messages import Incoming, Outgoing
from shared.stage import Handler


def on_price_upserted(
    book: QuoteBook, msg: Incoming[PriceListItemUpserted], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    # A fact from the product master, not a command: nothing to refuse and nothing to announce.
    book.put_price(wire.price_item_of(msg.payload))
    return []


def on_volume_discount_upserted(
    book: QuoteBook,
    msg: Incoming[VolumeDiscountUpserted],
    policy: domain.QuotePolicy,
    now: datetime,
) -> list[Outgoing]:
    # A fact from the ERP, like a price: nothing to refuse, nothing to announce.
    book.put_volume(wire.volume_list_of(msg.payload))
    return []


def on_account_updated(
    book: QuoteBook, msg: Incoming[AccountUpdated], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    # Master data from lead_svc, keyed by the account (the envelope's deal id is the account
    # id): the next quote issued for the account takes it; issued quotes keep their snapshot.
    remember(book, wire.account_updated(msg.payload))
    return []


def on_lead_qualified(
    book: QuoteBook, msg: Incoming[LeadQualified], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    decision = _qualify(book, msg, policy, now)
    if isinstance(decision, domain.Refusal) and decision.reason_code == "no_exchange_rate":
        # Kept until the ERP publishes the rate (`on_rate_published` opens it then).
        book.hold_qualification(msg, wire.waiting_pair(msg.payload, policy, book), now)
    return record(book, msg, decision, now)


def on_rate_published(
    book: QuoteBook,
    msg: Incoming[ExchangeRatePublished],
    policy: domain.QuotePolicy,
    now: datetime,
) -> list[Outgoing]:
    # A fact from the ERP. Qualifications that waited for a rate of this pair are opened now,
    # each as caused by its own lead.qualified (its deal, its partition's order).
    book.put_rate(wire.rate_of(msg.payload))
    events: list[Outgoing] = []
    for waiting in book.waiting_for(msg.payload.from_currency, msg.payload.to_currency):
        decision = _qualify(book, waiting, policy, now)
        if isinstance(decision, domain.Refusal) and decision.reason_code == "no_exchange_rate":
            continue  # a rate of another day: still waiting
        book.release_qualification(waiting.payload.lead_id)
        events.extend(record(book, waiting, decision, now))
    return events


def _qualify(
    book: QuoteBook, msg: Incoming[LeadQualified], policy: domain.QuotePolicy, now: datetime
) -> domain.Opened | domain.AlreadyOpen | domain.Refusal:
    qualification = wire.qualification_of(msg.payload)
    if qualification.account is not None:
        remember(book, qualification.account)
    price_list_id = policy.price_list_for(qualification.currency)
    return domain.open_opportunity(
        qualification,
        existing=book.opportunity(qualification.opportunity_id),
        of_lead=book.opportunity_of_lead(qualification.lead_id),
        catalog=book.catalog(price_list_id),
        policy=policy,
        # Peeked, and taken only when an opportunity is opened (see `record`): redeliveries
        # burn no numbers.
        quote_number=book.peek_quote_number(now.year),
        now=now,
        account=book.account(qualification.customer.account_id),
        volumes=book.volume_lists(price_list_id),
        rates=book.rates,
    )


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


def on_tick(
    book: QuoteBook, msg: Incoming[TimeTicked], policy: domain.QuotePolicy, now: datetime
) -> list[Outgoing]:
    # The tick's time is `now` for the rule, not the time the batch was read: a test (or a
    # drill) moves time by publishing a tick, and a late tick decides as of its own time.
    at = msg.payload.at
    events: list[Outgoing] = []
    for expired in domain.expire_due(book.quotes.values(), book.opportunities, policy, at):
        quote = expired.quote
        book.put_quote(quote)
        closed = wire.quote_closed(quote, domain.CloseStatus.EXPIRED, expired.detail)
        events.append(REPLIES.event(msg, closed, at, deal_id=quote.lead_id))
        if expired.opportunity is not None:
            book.put_opportunity(expired.opportunity)
            lost = wire.opportunity_closed(expired.opportunity)
            events.append(REPLIES.event(msg, lost, at, deal_id=quote.lead_id))
    return events


HANDLERS: dict[str, Handler[QuoteBook, domain.QuotePolicy]] = {
    "clock.ticked": on_tick,
    "catalog.price_upserted": on_price_upserted,
    "catalog.volume_discount_upserted": on_volume_discount_upserted,
    "fx.rate_published": on_rate_published,
    "account.updated": on_account_updated,
    "lead.qualified": on_lead_qualified,
    "quote.revise": on_revise_quote,
    "quote.accept": on_accept_quote,
    "quote.reject": on_reject_quote,
    "quote.create": on_create_quote,
    "quote.activate": on_activate_quote,
    "opportunity.update": on_update_opportunity,
    "opportunity.close": on_close_opportunity,
    "opportunity.reopen": on_reopen_opportunity,
}


def touches_of(
    batch: Sequence[Incoming[Any]], policy: domain.QuotePolicy, now: datetime
) -> Touches:
    """The keys the batch's messages touch, for one load."""
    opportunity_ids: set[UUID] = set()
    lead_ids: set[str] = set()
    quote_ids: set[UUID] = set()
    skus: set[str] = set()
    account_ids: set[UUID] = set()
    expiring_as_of = None
    numbering = False
    rate_pairs: set[tuple[str, str]] = set()
    lists: set[str] = {policy.price_list_id}
    for msg in batch:
        payload = msg.payload
        if isinstance(payload, TimeTicked):
            day = payload.at.date()
            expiring_as_of = day if expiring_as_of is None else max(expiring_as_of, day)
        elif isinstance(payload, ExchangeRatePublished):
            rate_pairs.add((payload.from_currency, payload.to_currency))
            numbering = True  # a waiting qualification may open an opportunity now
        elif isinstance(payload, LeadQualified):
            lists.add(policy.price_list_for(payload.currency))
            opportunity_ids.add(payload.opportunity_id)
            lead_ids.add(payload.lead_id)
            account_ids.add(payload.account_id)
            skus.update(interest.sku for interest in payload.product_interests)
        elif isinstance(payload, AccountUpdated):
            account_ids.add(payload.account_id)
        elif isinstance(payload, ReviseQuote):
            quote_ids.add(payload.quote_id)
            skus.update(line.sku for line in payload.lines if line.sku is not None)
        elif isinstance(payload, AcceptQuote | RejectQuote | ActivateQuote):
            quote_ids.add(payload.quote_id)
        elif isinstance(payload, UpdateOpportunity | CloseOpportunity | ReopenOpportunity):
            opportunity_ids.add(payload.opportunity_id)
        elif isinstance(payload, CreateQuote):
            opportunity_ids.add(payload.opportunity_id)
            quote_ids.add(payload.quote_id)
            numbering = True
            skus.update(line.sku for line in payload.lines if line.sku is not None)
    return Touches(
        opportunity_ids=frozenset(opportunity_ids),
        lead_ids=frozenset(lead_ids),
        quote_ids=frozenset(quote_ids),
        # New quotes are priced from the policy's list; revisions from their quote's, which
        # the store adds once it knows the quotes.
        price_list_ids=frozenset(lists),
        skus=frozenset(skus),
        account_ids=frozenset(account_ids),
        # The counter row is locked only by batches that may open opportunities.
        counter_year=now.year if lead_ids or numbering else None,
        expiring_as_of=expiring_as_of,
        # Rates are few (the latest per pair): loaded by every batch that may price or issue.
        rates_as_of=now.date() if numbering or quote_ids or lead_ids or rate_pairs else None,
        waiting_pairs=frozenset(rate_pairs),
    )
