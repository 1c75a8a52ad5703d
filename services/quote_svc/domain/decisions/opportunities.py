"""What a person does with an opportunity and its quotes, as Dynamics 365 lets them: update the
estimates, close as Won or Lost, reopen; create another quote on the opportunity, activate a
Draft. Pure, like `quotes`; refusals are answers.

D365's rules kept here: only an open opportunity is edited or closed; closing it Won needs every
quote closed first (the won one accepted), closing it Lost closes its open quotes with it; a
reopened opportunity is In Progress again, its actual revenue and close date cleared, unless
one of its quotes was won (that deal has its order). A new quote is a Draft with a number of its
own; only a fully priced Draft of an open opportunity can be activated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from contracts.money import InvalidLine
from services.quote_svc.domain.decisions.currencies import Rates
from services.quote_svc.domain.decisions.outcomes import Refusal
from services.quote_svc.domain.decisions.pricing import price_document
from services.quote_svc.domain.decisions.quotes import base_rate, no_base_rate
from services.quote_svc.domain.model import (
    PROBABILITY_OPEN,
    Catalog,
    CloseStatus,
    DocumentDiscount,
    LineRequest,
    Opportunity,
    OpportunityState,
    Quote,
    QuotePolicy,
    QuoteState,
    Volumes,
)
from services.quote_svc.domain.parties import Account, customer_snapshot

UPDATE = "opportunity.update"
CLOSE = "opportunity.close"
REOPEN = "opportunity.reopen"
CREATE_QUOTE = "quote.create"
ACTIVATE = "quote.activate"

# The fields a CRM or BI tool sees change (opportunity.updated names them).
PUBLISHED_FIELDS = (
    "state",
    "status_reason",
    "estimated_revenue",
    "revenue_given",
    "estimated_close_date",
    "probability",
    "pipeline_phase",
    "forecast_category",
    "actual_revenue",
    "competitor",
)


@dataclass(frozen=True, slots=True)
class Estimates:
    """What a person sets on an open opportunity; None: unchanged."""

    estimated_revenue: Decimal | None = None
    estimated_close_date: date | None = None
    probability: int | None = None
    pipeline_phase: str | None = None
    forecast_category: str | None = None
    status_reason: str | None = None  # in_progress | on_hold


@dataclass(frozen=True, slots=True)
class Closing:
    """How a person closes an opportunity."""

    won: bool
    status_reason: str  # won | canceled | out_sold
    actual_revenue: Decimal | None = None
    close_date: date | None = None
    competitor: str | None = None


@dataclass(frozen=True, slots=True)
class OpportunityChanged:
    """An opportunity changed without closing (an update, a reopen)."""

    opportunity: Opportunity
    reason: str


@dataclass(frozen=True, slots=True)
class OpportunityClosedByPerson:
    opportunity: Opportunity
    # Its open quotes, closed with it (Lost: as Lost or Canceled, like the opportunity).
    closed_quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True, slots=True)
class QuoteCreated:
    opportunity: Opportunity
    quote: Quote


@dataclass(frozen=True, slots=True)
class QuoteActivated:
    opportunity: Opportunity
    quote: Quote


def changed_fields(before: Opportunity | None, after: Opportunity) -> tuple[str, ...]:
    """The published fields that differ (all of them when there was nothing before)."""
    if before is None:
        return PUBLISHED_FIELDS
    return tuple(f for f in PUBLISHED_FIELDS if getattr(before, f) != getattr(after, f))


def update_opportunity(
    opportunity: Opportunity | None,
    *,
    opportunity_id: str,
    deal_id: str,
    estimates: Estimates,
    now: datetime,
) -> OpportunityChanged | Refusal:
    found = _open(UPDATE, opportunity, opportunity_id, deal_id)
    if isinstance(found, Refusal):
        return found
    e = estimates
    updated = replace(
        found,
        estimated_revenue=found.estimated_revenue
        if e.estimated_revenue is None
        else e.estimated_revenue,
        # A revenue a person gave no longer follows the quotes (D365 "user provided").
        revenue_given=found.revenue_given or e.estimated_revenue is not None,
        estimated_close_date=e.estimated_close_date or found.estimated_close_date,
        probability=found.probability if e.probability is None else e.probability,
        pipeline_phase=e.pipeline_phase or found.pipeline_phase,
        forecast_category=e.forecast_category or found.forecast_category,
        status_reason=e.status_reason or found.status_reason,
        updated_at=now,
    )
    return OpportunityChanged(updated, "updated")


def close_opportunity(
    opportunity: Opportunity | None,
    *,
    opportunity_id: str,
    deal_id: str,
    quotes: Iterable[Quote],
    closing: Closing,
    now: datetime,
) -> OpportunityClosedByPerson | Refusal:
    found = _open(CLOSE, opportunity, opportunity_id, deal_id)
    if isinstance(found, Refusal):
        return found
    if closing.won != (closing.status_reason == "won"):
        return Refusal(
            CLOSE,
            "invalid_status_reason",
            f"{closing.status_reason} does not go with "
            f"{'won' if closing.won else 'lost'} (won: won; lost: canceled or out_sold)",
            opportunity_id,
        )
    open_quotes = sorted((q for q in quotes if q.is_open), key=lambda q: q.quote_id)
    if closing.won and open_quotes:
        numbers = sorted({q.quote_number for q in open_quotes})
        return Refusal(
            CLOSE,
            "open_quotes",
            f"quotes {numbers} are open: accept the one won, or close them first",
            opportunity_id,
        )
    day = closing.close_date or now.date()
    closed = replace(
        found,
        state=OpportunityState.WON if closing.won else OpportunityState.LOST,
        status_reason=closing.status_reason,
        actual_revenue=(closing.actual_revenue or found.estimated_revenue) if closing.won else None,
        probability=100 if closing.won else 0,
        pipeline_phase="close",
        forecast_category="won" if closing.won else "lost",
        competitor=None if closing.won else closing.competitor,
        close_date=day,
        closed_at=now,
        updated_at=now,
    )
    status = CloseStatus.CANCELED if closing.status_reason == "canceled" else CloseStatus.LOST
    return OpportunityClosedByPerson(closed, tuple(q.closed_as(status, now) for q in open_quotes))


def reopen_opportunity(
    opportunity: Opportunity | None,
    *,
    opportunity_id: str,
    deal_id: str,
    quotes: Iterable[Quote],
    now: datetime,
) -> OpportunityChanged | Refusal:
    found = _known(REOPEN, opportunity, opportunity_id, deal_id)
    if isinstance(found, Refusal):
        return found
    if found.is_open:
        return Refusal(REOPEN, "not_closed", "the opportunity is open", opportunity_id)
    if any(q.state is QuoteState.WON for q in quotes):
        return Refusal(
            REOPEN, "quote_won", "one of its quotes was won: its order exists", opportunity_id
        )
    reopened = replace(
        found,
        state=OpportunityState.OPEN,
        status_reason="in_progress",
        actual_revenue=None,
        probability=PROBABILITY_OPEN,
        pipeline_phase="develop",
        forecast_category="pipeline",
        competitor=None,
        close_date=None,
        closed_at=None,
        updated_at=now,
    )
    return OpportunityChanged(reopened, "reopened")


def create_quote(
    opportunity: Opportunity | None,
    *,
    opportunity_id: str,
    deal_id: str,
    quote_id: UUID,
    existing: Quote | None,
    requests: Sequence[LineRequest],
    catalog: Catalog,
    policy: QuotePolicy,
    quote_number: str,
    now: datetime,
    volumes: Volumes | None = None,
    document: DocumentDiscount | None = None,
) -> QuoteCreated | Refusal | None:
    """A Draft with a number of its own; None when a quote with that id exists already (the
    caller's retry)."""
    if existing is not None:
        if opportunity is None or existing.opportunity_id != opportunity.opportunity_id:
            return Refusal(
                CREATE_QUOTE, "quote_id_taken", f"quote {quote_id} exists", str(quote_id)
            )
        return None
    found = _open(CREATE_QUOTE, opportunity, opportunity_id, deal_id)
    if isinstance(found, Refusal):
        return found
    try:
        lines, recorded = price_document(
            requests, catalog, found.currency, policy.default_tax_rate, volumes, document
        )
    except InvalidLine as error:
        return Refusal(CREATE_QUOTE, "invalid_line", str(error), str(quote_id))
    quote = Quote(
        quote_id=quote_id,
        opportunity_id=found.opportunity_id,
        lead_id=found.lead_id,
        revision=1,
        quote_number=quote_number,
        state=QuoteState.DRAFT,
        status_reason="in_progress",
        price_list_id=policy.price_list_id,
        currency=found.currency,
        lines=lines,
        created_at=now,
        updated_at=now,
        quote_discount_rate=recorded["quote_discount_rate"],
        quote_discount_amount=recorded["quote_discount_amount"],
    )
    return QuoteCreated(found, quote)


def activate_quote(
    quote: Quote | None,
    *,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
    revisions: Iterable[Quote],
    policy: QuotePolicy,
    now: datetime,
    account: Account | None,
    rates: Rates | None = None,
) -> QuoteActivated | Refusal:
    if quote is None or opportunity is None:
        return Refusal(ACTIVATE, "unknown_quote", f"no quote {quote_id}", quote_id)
    if quote.lead_id != deal_id:
        return Refusal(
            ACTIVATE, "deal_mismatch", f"quote {quote_id} belongs to another deal", quote_id
        )
    if quote.state is not QuoteState.DRAFT:
        return Refusal(ACTIVATE, "not_draft", f"the quote is {quote.status_reason}", quote_id)
    if not opportunity.is_open:
        return Refusal(ACTIVATE, "not_open", f"the opportunity is {opportunity.state}", quote_id)
    latest = max(r.revision for r in revisions if r.quote_number == quote.quote_number)
    if quote.revision != latest:
        return Refusal(
            ACTIVATE, "not_latest_revision", f"revision {latest} supersedes this one", quote_id
        )
    if not quote.fully_priced:
        unpriced = [line.line_no for line in quote.lines if not line.priced]
        return Refusal(
            ACTIVATE, "unpriced_line", f"lines {unpriced} need a price: revise them", quote_id
        )
    rate = base_rate(quote.currency, policy, rates or Rates(), now)
    if rate is None:
        return no_base_rate(ACTIVATE, quote.currency, policy, quote_id)
    customer = opportunity.customer
    active = quote.activated(
        policy, now, customer_snapshot(customer.account_id, customer.account_name, account), rate
    )
    return QuoteActivated(opportunity.proposed(active, now), active)


def _known(
    command: str, opportunity: Opportunity | None, opportunity_id: str, deal_id: str
) -> Opportunity | Refusal:
    if opportunity is None:
        return Refusal(
            command, "unknown_opportunity", f"no opportunity {opportunity_id}", opportunity_id
        )
    if opportunity.lead_id != deal_id:
        return Refusal(
            command,
            "deal_mismatch",
            f"opportunity {opportunity_id} belongs to another deal",
            opportunity_id,
        )
    return opportunity


def _open(
    command: str, opportunity: Opportunity | None, opportunity_id: str, deal_id: str
) -> Opportunity | Refusal:
    found = _known(command, opportunity, opportunity_id, deal_id)
    if isinstance(found, Refusal):
        return found
    if not found.is_open:
        return Refusal(command, "not_open", f"the opportunity is {found.state}", opportunity_id)
    return found
