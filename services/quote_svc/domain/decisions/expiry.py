"""Quote expiry on time passing: the rule a tick applies (contracts.ticks).

An Active quote is valid through its `valid_until` date; from the next day on it closes as
Expired on its own, as ERPNext's daily job does, instead of waiting for an acceptance to find
out. Whether its opportunity stays open (a person may revise the quote: D365 keeps it open) or is
closed Lost is the deployment's `QuotePolicy.expiry_closes_opportunity`.

Written "as of `now`": applying it twice, or an older tick after a newer one, changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from services.quote_svc.domain.model import (
    CloseStatus,
    Opportunity,
    OpportunityState,
    Quote,
    QuotePolicy,
    QuoteState,
)

# The D365 status reason of an opportunity lost because its offer ran out unanswered.
LOST_ON_EXPIRY = "canceled"


@dataclass(frozen=True, slots=True)
class ExpiredOnTime:
    """A quote closed Expired by a tick; `opportunity` set when the policy closed it too."""

    quote: Quote
    opportunity: Opportunity | None

    @property
    def detail(self) -> str:
        until = self.quote.valid_until.isoformat() if self.quote.valid_until else "?"
        return f"valid until {until}, expired unanswered"


def past_validity(quote: Quote, now: datetime) -> bool:
    """An Active quote whose last valid day is before `now`'s date."""
    return (
        quote.state is QuoteState.ACTIVE
        and quote.valid_until is not None
        and now.date() > quote.valid_until
    )


def expire_due(
    quotes: Collection[Quote],
    opportunities: Mapping[UUID, Opportunity],
    policy: QuotePolicy,
    now: datetime,
) -> list[ExpiredOnTime]:
    """Every Active quote past its validity as of `now`, closed Expired, in quote id order."""
    expired: list[ExpiredOnTime] = []
    for quote in sorted(quotes, key=lambda q: q.quote_id):
        if not past_validity(quote, now):
            continue
        closed = quote.closed_as(CloseStatus.EXPIRED, now)
        opportunity = opportunities.get(quote.opportunity_id)
        lost = None
        if (
            policy.expiry_closes_opportunity
            and opportunity is not None
            and opportunity.state is OpportunityState.OPEN
            and not _other_open_quotes(quotes, opportunities, quote)
        ):
            lost = replace(
                opportunity,
                state=OpportunityState.LOST,
                status_reason=LOST_ON_EXPIRY,
                forecast_category="lost",
                close_date=now.date(),
                probability=0,
                pipeline_phase="close",
                updated_at=now,
                closed_at=now,
            )
        expired.append(ExpiredOnTime(closed, lost))
    return expired


def _other_open_quotes(
    quotes: Collection[Quote], opportunities: Mapping[UUID, Opportunity], quote: Quote
) -> bool:
    # Today one revision is open per opportunity (the store's unique index); the check keeps the
    # policy right when several quotes of one opportunity may be open.
    return any(
        q.opportunity_id == quote.opportunity_id and q.quote_id != quote.quote_id and q.is_open
        for q in quotes
    )
