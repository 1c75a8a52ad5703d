"""quote_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's QuoteBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency
(one opportunity per qualified lead) is decided in the domain, because upstream retries come
under new event ids.

The handlers live by role: `commands` (from people and outside systems), `events` (facts from
other stages, upstream systems and the clock), `replies` (a decision taken into the book and the
events it publishes); this module holds the table and `touches_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.accounts import AccountUpdated
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
from services.quote_svc import domain
from services.quote_svc.handlers.commands import (
    on_accept_quote,
    on_activate_quote,
    on_close_opportunity,
    on_create_quote,
    on_reject_quote,
    on_reopen_opportunity,
    on_revise_quote,
    on_update_opportunity,
)
from services.quote_svc.handlers.events import (
    on_account_updated,
    on_lead_qualified,
    on_price_upserted,
    on_rate_published,
    on_tick,
    on_volume_discount_upserted,
)
from services.quote_svc.store import QuoteBook, Touches
from shared.messages import Incoming
from shared.stage import Handler

__all__ = ["HANDLERS", "touches_of"]

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
