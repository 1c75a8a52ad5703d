"""quote_svc's decisions: open, draft, activate, revise, accept, reject (pricing: `pricing`).

Pure: standard library and `contracts.money` only; time, quote numbers and the price list are
passed in. Decisions return the changed aggregates plus what happened (`outcomes.Opened`, ...), or
a `Refusal` saying why a command does not fit. Refusals are answers, not errors.

Only the latest revision of an opportunity may be open (Draft or Active); revising closes it
and creates revision + 1 with the same quote number (states: see `model`). A line is priced
from the price list when its sku is a known, active item in the quote's currency; otherwise it
is a write-in that keeps whatever price a person gave it, or none, and then the quote cannot
leave Draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from contracts.money import (
    InvalidLine,
    convert,
)
from services.quote_svc.domain.decisions.currencies import Rates
from services.quote_svc.domain.decisions.outcomes import (
    Accepted,
    AlreadyOpen,
    Expired,
    Opened,
    Refusal,
    Rejected,
    Revised,
)
from services.quote_svc.domain.decisions.pricing import (
    price_document,
    price_one,
    priceable,
    quote_currency,
)
from services.quote_svc.domain.model import (
    PROBABILITY_OPEN,
    BillingTerms,
    Catalog,
    CloseStatus,
    DocumentDiscount,
    LineRequest,
    Opportunity,
    OpportunityState,
    Qualification,
    Quote,
    QuotePolicy,
    QuoteState,
    RejectReason,
    Volumes,
    next_revision_id,
    quote_id_for,
)
from services.quote_svc.domain.parties import Account, DeliveryTerms, customer_snapshot

QUALIFIED = "lead.qualified"
REVISE = "quote.revise"
ACCEPT = "quote.accept"
REJECT = "quote.reject"


def open_opportunity(
    q: Qualification,
    *,
    existing: Opportunity | None,
    catalog: Catalog,
    policy: QuotePolicy,
    quote_number: str,
    now: datetime,
    of_lead: Opportunity | None = None,
    account: Account | None = None,
    volumes: Volumes | None = None,
    rates: Rates | None = None,
) -> Opened | AlreadyOpen | Refusal:
    """Open the opportunity and draft revision 1 from the product interests.

    Idempotent by natural key: an opportunity that exists (`existing`, by its id) is left
    alone, and so is one the lead already has (`of_lead`): one opportunity per lead. Issued at
    once, the quote carries the customer details of `account` as known now.
    """
    known = existing if existing is not None else of_lead
    if known is not None:
        return AlreadyOpen(known.opportunity_id)
    rates = rates or Rates()
    price_list_id = policy.price_list_for(q.currency)
    currency = quote_currency(q.interests, catalog, q.currency)
    revenue = q.estimated_revenue
    if revenue is not None and currency != q.currency:
        # Never relabelled: the lead's budget is converted at the rate of the day, or the
        # opportunity waits for that rate.
        found = rates.of(q.currency, currency, now.date())
        if found is None:
            return Refusal(
                QUALIFIED,
                "no_exchange_rate",
                f"the lead's amounts are in {q.currency} and price list {price_list_id} in "
                f"{currency}: no {q.currency}->{currency} rate on or before "
                f"{now.date().isoformat()}; the opportunity opens when the ERP publishes one",
                q.lead_id,
            )
        revenue = convert(revenue, found.rate, currency)
    lines = priceable(
        tuple(
            price_one(no, request, catalog, currency, policy.default_tax_rate, volumes or {})
            for no, request in enumerate(q.interests, start=1)
        ),
        currency,
    )
    draft = Quote(
        quote_id=quote_id_for(q.opportunity_id, 1),
        opportunity_id=q.opportunity_id,
        lead_id=q.lead_id,
        revision=1,
        quote_number=quote_number,
        state=QuoteState.DRAFT,
        status_reason="in_progress",
        price_list_id=price_list_id,
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
        estimated_revenue=revenue if revenue is not None else draft.totals().net_total,
        revenue_given=revenue is not None,
        estimated_close_date=q.estimated_close_date
        or now.date() + timedelta(days=policy.validity_days),
        probability=PROBABILITY_OPEN,
        pipeline_phase="develop",
        opened_at=now,
        updated_at=now,
        source=q.source,
        campaign_id=q.campaign_id,
        notes=q.notes,
    )
    if policy.auto_activate and draft.fully_priced:
        customer = customer_snapshot(q.customer.account_id, q.customer.account_name, account)
        rate = base_rate(draft.currency, policy, rates, now)
        # Without the rate to the base currency it stays a Draft: activating it says why.
        if rate is not None:
            draft = draft.activated(policy, now, customer, rate)
            opportunity = opportunity.proposed(draft, now)
    return Opened(opportunity, draft)


def base_rate(
    currency: str, policy: QuotePolicy, rates: Rates, now: datetime
) -> tuple[Decimal, date] | None:
    """The rate of the day from `currency` to the base currency, and its day."""
    found = rates.of(currency, policy.base_currency, now.date())
    return None if found is None else (found.rate, found.valid_on)


def no_base_rate(command: str, currency: str, policy: QuotePolicy, quote_id: str) -> Refusal:
    return Refusal(
        command,
        "no_exchange_rate",
        f"no {currency}->{policy.base_currency} rate published: the quote cannot carry its "
        "base-currency amounts",
        quote_id,
    )


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
    account: Account | None = None,
    volumes: Volumes | None = None,
    document: DocumentDiscount | None = None,
    rates: Rates | None = None,
) -> Revised | Refusal:
    """Close the latest revision and create revision + 1 with `requests`, issued if priced.

    Allowed on a Draft or Active latest revision, and on one that Expired (renewing an offer
    the customer let lapse, rather than leaving the opportunity with nothing to accept).
    A line without a price is refused (`unpriced_line`): a person's edit should not close the
    customer's Active quote in favour of one that cannot be issued. With `auto_activate` the
    revision is issued at once and takes a fresh snapshot of the customer details from
    `account`; without it, it is a Draft to activate (`quote.activate`), as in D365.
    Revisions count per quote (its number): an opportunity may have several.
    """
    command = REVISE
    found = _guard(command, quote, quote_id, deal_id, opportunity)
    if isinstance(found, Refusal):
        return found
    quote, opportunity = found
    family = [r for r in revisions if r.quote_number == quote.quote_number]
    latest = max((r.revision for r in family), default=quote.revision)
    if quote.revision != latest:
        return Refusal(
            command, "not_latest_revision", f"revision {latest} supersedes this one", quote_id
        )
    renewable = quote.state is QuoteState.CLOSED and quote.status_reason == CloseStatus.EXPIRED
    if not (quote.is_open or renewable) or opportunity.state is not OpportunityState.OPEN:
        return Refusal(command, "not_open", f"the quote is {quote.status_reason}", quote_id)
    try:
        lines, recorded = price_document(
            requests, catalog, quote.currency, policy.default_tax_rate, volumes, document
        )
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
        quote_id=next_revision_id(quote),
        revision=quote.revision + 1,
        state=QuoteState.DRAFT,
        status_reason="in_progress",
        lines=lines,
        created_at=now,
        updated_at=now,
        payment_terms=None,
        valid_from=None,
        valid_until=None,
        customer_details=None,
        quote_discount_rate=recorded["quote_discount_rate"],
        quote_discount_amount=recorded["quote_discount_amount"],
    )
    if policy.auto_activate:
        rate = base_rate(new.currency, policy, rates or Rates(), now)
        if rate is None:
            return no_base_rate(command, new.currency, policy, quote_id)
        customer = opportunity.customer
        new = new.activated(
            policy,
            now,
            customer_snapshot(customer.account_id, customer.account_name, account),
            rate,
        )
    previous = quote
    if quote.is_open:
        previous = quote.closed_as(CloseStatus.REVISED, now)
    return Revised(
        opportunity=opportunity.proposed(new, now)
        if new.state is QuoteState.ACTIVE
        else opportunity,
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
    terms: BillingTerms,
    now: datetime,
    delivery: DeliveryTerms | None = None,
    account: Account | None = None,
    revisions: Iterable[Quote] = (),
) -> Accepted | Expired | Refusal:
    """Win the Active quote and the opportunity, while the quote is valid; else refuse.

    The billing terms agreed on accepting travel with the decision to `quote.accepted` (the
    order keeps them); contradictory ones are refused (`invalid_billing_terms`), the quote stays
    Active and the acceptance can be sent again with terms that hold. So do the delivery date
    and shipping method asked for; a ship-to named on accepting replaces the one of the quote's
    customer details (a quote issued before quotes carried them takes them from `account` now).
    """
    command = ACCEPT
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
            quote.closed_as(CloseStatus.EXPIRED, now),
            Refusal(command, "expired", detail, quote_id),
        )
    contradiction = terms.contradiction()
    if contradiction is not None:
        return Refusal(command, "invalid_billing_terms", contradiction, quote_id)
    delivery = delivery or DeliveryTerms()
    customer = opportunity.customer
    details = quote.customer_details or customer_snapshot(
        customer.account_id, customer.account_name, account
    )
    won = replace(
        quote,
        state=QuoteState.WON,
        status_reason="won",
        customer_details=details.shipping_to(delivery.ship_to),
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
        forecast_category="won",
        close_date=now.date(),
        actual_revenue=revenue,
        estimated_revenue=opportunity.estimated_revenue if opportunity.revenue_given else revenue,
        probability=100,
        pipeline_phase="close",
        updated_at=now,
        closed_at=now,
    )
    others = tuple(
        q.closed_as(CloseStatus.CANCELED, now)
        for q in sorted(revisions, key=lambda q: q.quote_id)
        if q.is_open and q.quote_id != won.quote_id
    )
    return Accepted(closed, won, terms, delivery, others)


def reject(
    quote: Quote | None,
    *,
    quote_id: str,
    deal_id: str,
    opportunity: Opportunity | None,
    reason: RejectReason,
    detail: str,
    now: datetime,
    revisions: Iterable[Quote] = (),
) -> Rejected | Refusal:
    """Close the Active quote as Lost/Canceled (D365 closes only an Active quote; a Draft is
    revised or dropped with its opportunity). Being the last open quote of the opportunity, the
    opportunity is lost with it; while another quote of it is open, it stays open."""
    command = REJECT
    found = _guard(command, quote, quote_id, deal_id, opportunity)
    if isinstance(found, Refusal):
        return found
    quote, opportunity = found
    if quote.state is QuoteState.DRAFT:
        return Refusal(command, "not_active", "a draft quote is not closed: revise it", quote_id)
    if not quote.is_open or opportunity.state is not OpportunityState.OPEN:
        return Refusal(command, "not_open", f"the quote is {quote.status_reason}", quote_id)
    closed = quote.closed_as(CloseStatus(reason.value), now)
    if any(q.is_open and q.quote_id != quote.quote_id for q in revisions):
        return Rejected(opportunity, closed, reason, detail, opportunity_closed=False)
    lost = replace(
        opportunity,
        state=OpportunityState.LOST,
        status_reason=reason.value,
        forecast_category="lost",
        close_date=now.date(),
        probability=0,
        pipeline_phase="close",
        updated_at=now,
        closed_at=now,
    )
    return Rejected(lost, closed, reason, detail)


def rejection_detail(reason: RejectReason, note: str | None, requested_by: str) -> str:
    """Why a rejected quote closed: the note given, else the reason and who asked."""
    return note or f"{reason.value} ({requested_by})"


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
