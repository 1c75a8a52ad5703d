"""quote_svc's handlers of events: the price lists, volume discounts and exchange rates the
product master and the ERP publish (local copies), lead_svc's accounts (a local copy) and
qualified leads (an opportunity opened, its first quote drafted), and the clock's ticks for the
time rule (quote expiry)."""

from __future__ import annotations

from datetime import datetime

from contracts.accounts import AccountUpdated
from contracts.catalog import PriceListItemUpserted, VolumeDiscountUpserted
from contracts.leads import LeadQualified
from contracts.rates import ExchangeRatePublished
from contracts.ticks import TimeTicked
from services.quote_svc import domain, wire
from services.quote_svc.handlers.replies import REPLIES, record, remember
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming, Outgoing


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
