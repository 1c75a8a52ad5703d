"""The opportunity and its quotes: open, draft, activate, revise, accept, reject, expire.

Pure: standard library and `contracts.money` (via `pricing`) only; time, quote numbers and the
price list are passed in. Decisions return the changed aggregates plus what happened, or a
`Refusal` saying why a command does not fit. Refusals are answers, not errors.

Only the latest revision of an opportunity may be open (Draft or Active); revising closes it
and creates revision + 1 with the same quote number (states: see `model`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from contracts.money import InvalidLine
from services.quote_svc.model import (
    CloseStatus,
    Opportunity,
    OpportunityState,
    Qualification,
    Quote,
    QuotePolicy,
    QuoteState,
    RejectReason,
)
from services.quote_svc.pricing import Catalog, LineRequest, price_lines, quote_currency

# Quote ids are derived from the opportunity and the revision: a replayed decision mints the
# same id, and UNIQUE(opportunity_id, revision) agrees with the primary key.
_ID_NAMESPACE = UUID("3f0c8a52-6d1e-4b8e-9c27-5a41e0b7d913")

PROBABILITY_OPEN = 20
PROBABILITY_PROPOSED = 40


@dataclass(frozen=True, slots=True)
class Opened:
    """A new opportunity with its first quote revision (issued if it could be activated)."""

    opportunity: Opportunity
    quote: Quote


@dataclass(frozen=True, slots=True)
class AlreadyOpen:
    """A qualified lead whose opportunity exists: a redelivery, nothing to do."""

    opportunity_id: UUID


@dataclass(frozen=True, slots=True)
class Revised:
    opportunity: Opportunity
    previous: Quote
    quote: Quote
    # Only a quote the customer has seen (Active) is announced as closed; a superseded Draft
    # was never published, so its closing is recorded but not announced.
    announce_previous: bool


@dataclass(frozen=True, slots=True)
class Accepted:
    opportunity: Opportunity
    quote: Quote


@dataclass(frozen=True, slots=True)
class Expired:
    """An acceptance came too late: the quote closes as Expired and the command is refused."""

    quote: Quote
    refusal: Refusal


@dataclass(frozen=True, slots=True)
class Rejected:
    opportunity: Opportunity
    quote: Quote
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None


Decision = Opened | AlreadyOpen | Revised | Accepted | Expired | Rejected | Refusal


def quote_id_for(opportunity_id: UUID, revision: int) -> UUID:
    return uuid5(_ID_NAMESPACE, f"quote:{opportunity_id}:{revision}")


def format_quote_number(year: int, seq: int) -> str:
    return f"Q-{year}-{seq:05d}"


def open_opportunity(
    q: Qualification,
    *,
    existing: Opportunity | None,
    catalog: Catalog,
    policy: QuotePolicy,
    quote_number: str,
    now: datetime,
) -> Opened | AlreadyOpen:
    """Open the opportunity and draft revision 1 from the product interests.

    Idempotent by natural key: an opportunity that exists is left alone.
    """
    if existing is not None:
        return AlreadyOpen(existing.opportunity_id)
    currency = quote_currency(q.interests, catalog, q.currency)
    lines = price_lines(q.interests, catalog, currency, policy.default_tax_rate)
    draft = Quote(
        quote_id=quote_id_for(q.opportunity_id, 1),
        opportunity_id=q.opportunity_id,
        lead_id=q.lead_id,
        revision=1,
        quote_number=quote_number,
        state=QuoteState.DRAFT,
        status_reason="in_progress",
        price_list_id=policy.price_list_id,
        currency=currency,
        lines=lines,
        created_at=now,
        updated_at=now,
    )
    opportunity = Opportunity(
        opportunity_id=q.opportunity_id,
        lead_id=q.lead_id,
        topic=q.topic,
        customer=q.customer,
        currency=currency,
        state=OpportunityState.OPEN,
        status_reason="in_progress",
        estimated_revenue=q.estimated_revenue
        if q.estimated_revenue is not None
        else draft.totals().net_total,
        revenue_given=q.estimated_revenue is not None,
        estimated_close_date=q.estimated_close_date
        or now.date() + timedelta(days=policy.validity_days),
        probability=PROBABILITY_OPEN,
        pipeline_phase="develop",
        opened_at=now,
        updated_at=now,
    )
    if policy.auto_activate and draft.fully_priced:
        draft = _activate(draft, policy, now)
        opportunity = _proposed(opportunity, draft, now)
    return Opened(opportunity, draft)


def revise(
    quote: Quote | None,
    *,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
    revisions: Iterable[Quote],
    requests: Sequence[LineRequest],
    catalog: Catalog,
    policy: QuotePolicy,
    now: datetime,
) -> Revised | Refusal:
    """Close the latest revision and create revision + 1 with `requests`, issued if priced.

    Allowed on a Draft or Active latest revision, and on one that Expired (renewing an offer
    the customer let lapse, rather than leaving the opportunity with nothing to accept).
    A line without a price is refused (`unpriced_line`): a person's edit should not close the
    customer's Active quote in favour of one that cannot be issued. A revision is a person's
    act, so it is issued at once; `auto_activate` concerns only the draft made from a lead.
    """
    command = "quote.revise"
    found = _guard(command, quote, quote_id, deal_id, opportunity)
    if isinstance(found, Refusal):
        return found
    quote, opportunity = found
    latest = max((r.revision for r in revisions), default=quote.revision)
    if quote.revision != latest:
        return Refusal(
            command, "not_latest_revision", f"revision {latest} supersedes this one", quote_id
        )
    renewable = quote.state is QuoteState.CLOSED and quote.status_reason == CloseStatus.EXPIRED
    if not (quote.is_open or renewable) or opportunity.state is not OpportunityState.OPEN:
        return Refusal(command, "not_open", f"the quote is {quote.status_reason}", quote_id)
    try:
        lines = price_lines(requests, catalog, quote.currency, policy.default_tax_rate)
    except InvalidLine as error:
        return Refusal(command, "invalid_line", str(error), quote_id)
    unpriced = [line.line_no for line in lines if not line.priced]
    if unpriced:
        return Refusal(
            command,
            "unpriced_line",
            f"lines {unpriced} are not on price list {quote.price_list_id} in "
            f"{quote.currency}: give them a unit_price",
            quote_id,
        )
    new = replace(
        quote,
        quote_id=quote_id_for(quote.opportunity_id, quote.revision + 1),
        revision=quote.revision + 1,
        state=QuoteState.DRAFT,
        status_reason="in_progress",
        lines=lines,
        created_at=now,
        updated_at=now,
        payment_terms=None,
        valid_from=None,
        valid_until=None,
    )
    new = _activate(new, policy, now)
    previous = quote
    if quote.is_open:
        previous = _close(quote, CloseStatus.REVISED, now)
    return Revised(
        opportunity=_proposed(opportunity, new, now),
        previous=previous,
        quote=new,
        announce_previous=quote.state is QuoteState.ACTIVE,
    )


def accept(
    quote: Quote | None,
    *,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
    accepted_by: str,
    customer_po: str | None,
    now: datetime,
) -> Accepted | Expired | Refusal:
    """Win the Active quote and the opportunity, while the quote is valid; else refuse."""
    command = "quote.accept"
    found = _guard(command, quote, quote_id, deal_id, opportunity)
    if isinstance(found, Refusal):
        return found
    quote, opportunity = found
    if quote.state is QuoteState.DRAFT:
        return Refusal(command, "not_active", "a draft quote cannot be accepted", quote_id)
    if quote.state is not QuoteState.ACTIVE or opportunity.state is not OpportunityState.OPEN:
        return Refusal(command, "not_open", f"the quote is {quote.status_reason}", quote_id)
    if quote.valid_until is not None and now.date() > quote.valid_until:
        detail = f"the quote was valid until {quote.valid_until.isoformat()}"
        return Expired(
            _close(quote, CloseStatus.EXPIRED, now),
            Refusal(command, "expired", detail, quote_id),
        )
    won = replace(
        quote,
        state=QuoteState.WON,
        status_reason="won",
        customer_po=customer_po,
        accepted_by=accepted_by,
        accepted_at=now,
        updated_at=now,
        closed_at=now,
    )
    revenue = won.totals().net_total
    closed = replace(
        opportunity,
        state=OpportunityState.WON,
        status_reason="won",
        actual_revenue=revenue,
        estimated_revenue=opportunity.estimated_revenue if opportunity.revenue_given else revenue,
        probability=100,
        pipeline_phase="close",
        updated_at=now,
        closed_at=now,
    )
    return Accepted(closed, won)


def reject(
    quote: Quote | None,
    *,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
    reason: RejectReason,
    detail: str,
    now: datetime,
) -> Rejected | Refusal:
    """Close the open quote as Lost/Canceled; being the last open one, the opportunity is lost."""
    command = "quote.reject"
    found = _guard(command, quote, quote_id, deal_id, opportunity)
    if isinstance(found, Refusal):
        return found
    quote, opportunity = found
    if not quote.is_open or opportunity.state is not OpportunityState.OPEN:
        return Refusal(command, "not_open", f"the quote is {quote.status_reason}", quote_id)
    closed = _close(quote, CloseStatus(reason.value), now)
    lost = replace(
        opportunity,
        state=OpportunityState.LOST,
        status_reason=reason.value,
        probability=0,
        pipeline_phase="close",
        updated_at=now,
        closed_at=now,
    )
    return Rejected(lost, closed, reason, detail)


def _guard(
    command: str,
    quote: Quote | None,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
) -> Refusal | tuple[Quote, Opportunity]:
    """The refusals every quote command shares, in the order a person would want to hear them;
    else the quote and its opportunity."""
    if quote is None or opportunity is None:
        return Refusal(command, "unknown_quote", f"no quote {quote_id}", quote_id)
    if quote.lead_id != deal_id:
        # Commands travel keyed by the deal: one for another deal would race that deal's events.
        return Refusal(
            command, "deal_mismatch", f"quote {quote_id} belongs to another deal", quote_id
        )
    if quote.state is QuoteState.WON or opportunity.state is OpportunityState.WON:
        return Refusal(command, "already_won", "the quote was accepted already", quote_id)
    return quote, opportunity


def _activate(quote: Quote, policy: QuotePolicy, now: datetime) -> Quote:
    valid_from = now.date()
    return replace(
        quote,
        state=QuoteState.ACTIVE,
        status_reason="open",
        payment_terms=policy.payment_terms,
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=policy.validity_days),
        updated_at=now,
    )


def _close(quote: Quote, status: CloseStatus, now: datetime) -> Quote:
    return replace(
        quote, state=QuoteState.CLOSED, status_reason=status.value, updated_at=now, closed_at=now
    )


def _proposed(opportunity: Opportunity, quote: Quote, now: datetime) -> Opportunity:
    """A quote went out: the opportunity is in the propose phase, its revenue follows the quote."""
    return replace(
        opportunity,
        pipeline_phase="propose",
        probability=max(opportunity.probability, PROBABILITY_PROPOSED),
        estimated_revenue=opportunity.estimated_revenue
        if opportunity.revenue_given
        else quote.totals().net_total,
        updated_at=now,
    )
