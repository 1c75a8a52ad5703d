"""The opportunity's and quote's decisions, pure: pricing, issuing, revising, winning, losing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from services.quote_svc import domain
from services.quote_svc.domain import (
    Accepted,
    AlreadyOpen,
    BillingPolicy,
    BillingTerms,
    Contact,
    Customer,
    Expired,
    LineRequest,
    Opened,
    Opportunity,
    OpportunityState,
    PriceItem,
    Qualification,
    Quote,
    QuotePolicy,
    QuoteState,
    Refusal,
    Rejected,
    RejectReason,
    Revised,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
OPP = UUID("00000000-0000-4000-8000-0000000000aa")
POLICY = QuotePolicy()
NO_TERMS = BillingTerms()


def item(
    sku: str, price: str, *, tax: str = "0.19", currency: str = "EUR", active: bool = True
) -> PriceItem:
    return PriceItem(
        "STANDARD", sku, f"Product {sku}", Decimal(price), currency, Decimal(tax), "each", active
    )


CATALOG = {
    "SKU-1001": item("SKU-1001", "19.99"),
    "SKU-3005": item("SKU-3005", "14.95", tax="0.07"),
    "SKU-USD": item("SKU-USD", "10.00", currency="USD"),
    "SKU-OLD": item("SKU-OLD", "5.00", active=False),
}


def want(*pairs: tuple[str, str]) -> tuple[LineRequest, ...]:
    return tuple(LineRequest(sku=sku, quantity=Decimal(qty)) for sku, qty in pairs)


def qualification(
    *interests: LineRequest, revenue: str | None = None, currency: str = "EUR"
) -> Qualification:
    return Qualification(
        lead_id="L1",
        opportunity_id=OPP,
        topic="widgets",
        customer=Customer(
            UUID("00000000-0000-4000-8000-0000000000ac"),
            "Acme",
            UUID("00000000-0000-4000-8000-0000000000cc"),
            Contact("Ada", "Lovelace", "ada@acme.example"),
        ),
        currency=currency,
        interests=interests,
        estimated_revenue=Decimal(revenue) if revenue else None,
    )


def opened(
    *interests: LineRequest,
    policy: QuotePolicy = POLICY,
    revenue: str | None = None,
    currency: str = "EUR",
) -> Opened:
    decision = domain.open_opportunity(
        qualification(*interests, revenue=revenue, currency=currency),
        existing=None,
        catalog=CATALOG,
        policy=policy,
        quote_number="Q-2026-00007",
        now=NOW,
    )
    assert isinstance(decision, Opened)
    return decision


def issued() -> Opened:
    return opened(*want(("SKU-1001", "3"), ("SKU-3005", "7")))


def drafted() -> Opened:
    return opened(*want(("SKU-1001", "3"), ("SKU-NEW", "2")))


def revise(
    q: Quote,
    opp: Opportunity,
    *requests: LineRequest,
    revisions: tuple[Quote, ...] = (),
    deal: str = "L1",
) -> domain.Decision:
    return domain.revise(
        q,
        quote_id=str(q.quote_id),
        deal_id=deal,
        opportunity=opp,
        revisions=revisions or (q,),
        requests=requests,
        catalog=CATALOG,
        policy=POLICY,
        now=NOW,
    )


def accept(
    q: Quote | None,
    opp: Opportunity | None,
    *,
    now: datetime = NOW,
    deal: str = "L1",
    terms: BillingTerms = NO_TERMS,
) -> domain.Decision:
    return domain.accept(
        q,
        quote_id="Q",
        deal_id=deal,
        opportunity=opp,
        accepted_by="ada",
        customer_po="PO 1",
        terms=terms,
        now=now,
    )


def reject(
    q: Quote | None, opp: Opportunity | None, reason: RejectReason = RejectReason.LOST
) -> domain.Decision:
    return domain.reject(
        q, quote_id="Q", deal_id="L1", opportunity=opp, reason=reason, detail="x", now=NOW
    )


def code(decision: domain.Decision) -> str:
    assert isinstance(decision, Refusal), decision
    return decision.reason_code


# --- opening -------------------------------------------------------------------------------


def test_a_fully_priced_draft_is_issued_with_totals_to_the_cent() -> None:
    d = issued()
    q = d.quote
    assert (q.state, q.revision, q.quote_number, q.currency) == (
        QuoteState.ACTIVE,
        1,
        "Q-2026-00007",
        "EUR",
    )
    assert (q.valid_from, q.valid_until) == (date(2026, 11, 27), date(2026, 12, 27))
    assert q.payment_terms == "net_30"
    t = q.totals()
    # 3 x 19.99 = 59.97, tax 11.39 (11.3943); 7 x 14.95 = 104.65, tax 7.33 (7.3255 rounds up)
    assert (t.subtotal, t.net_total, t.tax_total, t.grand_total) == (
        Decimal("164.62"),
        Decimal("164.62"),
        Decimal("18.72"),
        Decimal("183.34"),
    )
    assert [line.write_in for line in q.lines] == [False, False]
    assert d.opportunity.state is OpportunityState.OPEN
    assert (d.opportunity.pipeline_phase, d.opportunity.estimated_revenue) == (
        "propose",
        Decimal("164.62"),
    )
    assert d.opportunity.estimated_close_date == date(2026, 12, 27)


def test_an_unknown_sku_is_an_unpriced_write_in_and_the_quote_stays_draft() -> None:
    d = drafted()
    assert d.quote.state is QuoteState.DRAFT
    assert d.quote.valid_until is None
    unknown = d.quote.lines[1]
    assert (unknown.sku, unknown.write_in, unknown.unit_price, unknown.description) == (
        "SKU-NEW",
        True,
        None,
        "SKU-NEW",
    )
    assert d.opportunity.pipeline_phase == "develop"
    assert d.opportunity.probability == 20
    assert d.opportunity.estimated_revenue == Decimal("59.97")  # the priced part


@pytest.mark.parametrize("sku", ["SKU-OLD", "SKU-USD"])
def test_a_withdrawn_item_or_one_in_another_currency_needs_a_price(sku: str) -> None:
    d = opened(*want(("SKU-1001", "1"), (sku, "1")))
    assert d.quote.state is QuoteState.DRAFT
    assert not d.quote.lines[1].priced


def test_the_quote_currency_is_the_price_lists_not_the_leads() -> None:
    d = opened(*want(("SKU-1001", "1")), currency="USD")
    assert (d.quote.currency, d.opportunity.currency) == ("EUR", "EUR")
    assert d.quote.state is QuoteState.ACTIVE


def test_a_lead_without_interests_gets_an_opportunity_and_an_empty_draft() -> None:
    d = opened()
    assert d.quote.lines == ()
    assert d.quote.state is QuoteState.DRAFT
    assert d.opportunity.estimated_revenue == Decimal("0.00")


def test_given_revenue_wins_over_the_lines_and_auto_activate_can_be_off() -> None:
    d = opened(*want(("SKU-1001", "1")), policy=QuotePolicy(auto_activate=False), revenue="5000")
    assert d.quote.state is QuoteState.DRAFT
    assert d.opportunity.estimated_revenue == Decimal("5000")


def test_an_existing_opportunity_is_left_alone() -> None:
    first = issued()
    again = domain.open_opportunity(
        qualification(),
        existing=first.opportunity,
        catalog=CATALOG,
        policy=POLICY,
        quote_number="Q-x",
        now=NOW,
    )
    assert again == AlreadyOpen(OPP)


def test_a_lead_that_has_an_opportunity_under_another_id_gets_no_second_one() -> None:
    first = issued()
    other = replace(qualification(), opportunity_id=UUID("00000000-0000-4000-8000-0000000000bb"))
    again = domain.open_opportunity(
        other,
        existing=None,
        of_lead=first.opportunity,
        catalog=CATALOG,
        policy=POLICY,
        quote_number="Q-x",
        now=NOW,
    )
    assert again == AlreadyOpen(OPP)


def test_quote_ids_are_deterministic_per_opportunity_and_revision() -> None:
    assert issued().quote.quote_id == issued().quote.quote_id == domain.quote_id_for(OPP, 1)
    assert domain.quote_id_for(OPP, 2) != domain.quote_id_for(OPP, 1)
    assert domain.format_quote_number(2026, 17) == "Q-2026-00017"


# --- revising ------------------------------------------------------------------------------


def test_revising_an_active_quote_closes_it_and_issues_the_next_revision() -> None:
    d = issued()
    decision = revise(d.quote, d.opportunity, LineRequest("SKU-1001", Decimal(12)))
    assert isinstance(decision, Revised)
    assert decision.announce_previous
    assert (decision.previous.state, decision.previous.status_reason) == (
        QuoteState.CLOSED,
        "revised",
    )
    new = decision.quote
    assert (new.revision, new.quote_number, new.state) == (
        2,
        d.quote.quote_number,
        QuoteState.ACTIVE,
    )
    assert new.quote_id == domain.quote_id_for(OPP, 2)
    assert new.totals().net_total == Decimal("239.88")
    assert decision.opportunity.estimated_revenue == Decimal("239.88")


def test_revising_a_draft_supersedes_it_quietly_and_prices_write_ins_by_hand() -> None:
    d = drafted()
    decision = revise(
        d.quote,
        d.opportunity,
        LineRequest("SKU-1001", Decimal(3)),
        LineRequest("SKU-NEW", Decimal(2), unit_price=Decimal("100.00")),
        LineRequest(
            None,
            Decimal(1),
            description="Setup",
            unit_price=Decimal("50"),
            tax_rate=Decimal("0.19"),
        ),
    )
    assert isinstance(decision, Revised)
    assert not decision.announce_previous
    assert decision.previous.status_reason == "revised"
    assert decision.quote.state is QuoteState.ACTIVE
    assert [line.write_in for line in decision.quote.lines] == [False, True, True]
    assert decision.quote.lines[1].tax_rate == Decimal(0)  # the default for a write-in
    assert decision.quote.totals().net_total == Decimal("309.97")


def test_a_revision_with_an_unpriced_line_is_refused_and_nothing_closes() -> None:
    d = issued()
    assert (
        code(revise(d.quote, d.opportunity, LineRequest("SKU-NEW", Decimal(1)))) == "unpriced_line"
    )


def test_a_discount_above_the_line_is_refused() -> None:
    d = issued()
    bad = LineRequest("SKU-1001", Decimal(1), discount_amount=Decimal("20.00"))
    assert code(revise(d.quote, d.opportunity, bad)) == "invalid_line"


def test_only_the_latest_revision_can_be_revised() -> None:
    d = issued()
    second = revise(d.quote, d.opportunity, LineRequest("SKU-1001", Decimal(2)))
    assert isinstance(second, Revised)
    stale = revise(
        second.previous,
        second.opportunity,
        LineRequest("SKU-1001", Decimal(5)),
        revisions=(second.previous, second.quote),
    )
    assert code(stale) == "not_latest_revision"


def test_revise_refusals_for_won_and_lost_quotes() -> None:
    d = issued()
    won = accept(d.quote, d.opportunity)
    assert isinstance(won, Accepted)
    assert (
        code(revise(won.quote, won.opportunity, LineRequest("SKU-1001", Decimal(1))))
        == "already_won"
    )
    lost = reject(d.quote, d.opportunity)
    assert isinstance(lost, Rejected)
    assert (
        code(revise(lost.quote, lost.opportunity, LineRequest("SKU-1001", Decimal(1))))
        == "not_open"
    )


def test_an_expired_quote_can_be_renewed_by_revising_it() -> None:
    d = issued()
    expired = accept(d.quote, d.opportunity, now=NOW + timedelta(days=40))
    assert isinstance(expired, Expired)
    renewed = revise(expired.quote, d.opportunity, LineRequest("SKU-1001", Decimal(1)))
    assert isinstance(renewed, Revised)
    assert not renewed.announce_previous  # its closing as expired was announced already
    assert renewed.previous.status_reason == "expired"


# --- accepting -----------------------------------------------------------------------------


def test_accepting_wins_the_quote_and_the_opportunity_with_actual_revenue() -> None:
    d = issued()
    decision = accept(d.quote, d.opportunity)
    assert isinstance(decision, Accepted)
    assert (decision.quote.state, decision.quote.customer_po, decision.quote.accepted_at) == (
        QuoteState.WON,
        "PO 1",
        NOW,
    )
    opp = decision.opportunity
    assert (opp.state, opp.status_reason, opp.actual_revenue) == (
        OpportunityState.WON,
        "won",
        Decimal("164.62"),
    )
    assert (opp.probability, opp.closed_at) == (100, NOW)


def test_the_last_valid_day_still_accepts_and_the_next_expires_the_quote() -> None:
    d = issued()
    assert d.quote.valid_until is not None
    last_day = datetime.combine(d.quote.valid_until, datetime.max.time(), UTC)
    assert isinstance(accept(d.quote, d.opportunity, now=last_day), Accepted)
    late = accept(d.quote, d.opportunity, now=last_day + timedelta(seconds=1))
    assert isinstance(late, Expired)
    assert (late.quote.state, late.quote.status_reason) == (QuoteState.CLOSED, "expired")
    assert late.refusal.reason_code == "expired"


def test_accept_refusals() -> None:
    d, draft = issued(), drafted()
    assert code(accept(None, None)) == "unknown_quote"
    assert code(accept(d.quote, d.opportunity, deal="L2")) == "deal_mismatch"
    assert code(accept(draft.quote, draft.opportunity)) == "not_active"
    won = accept(d.quote, d.opportunity)
    assert isinstance(won, Accepted)
    assert code(accept(won.quote, won.opportunity)) == "already_won"
    revised = revise(d.quote, d.opportunity, LineRequest("SKU-1001", Decimal(1)))
    assert isinstance(revised, Revised)
    assert code(accept(revised.previous, revised.opportunity)) == "not_open"


@pytest.mark.parametrize(
    "terms",
    [
        BillingTerms(),
        BillingTerms(BillingPolicy.ON_ORDER),
        BillingTerms(BillingPolicy.ON_DELIVERY),
        BillingTerms(BillingPolicy.DOWN_PAYMENT),
        BillingTerms(BillingPolicy.DOWN_PAYMENT, Decimal("0.3")),
        # No policy named: the deployment's default applies, which may be the down payment.
        BillingTerms(None, Decimal("0.25")),
    ],
)
def test_the_billing_terms_agreed_on_accepting_travel_with_the_decision(
    terms: BillingTerms,
) -> None:
    d = issued()
    decision = accept(d.quote, d.opportunity, terms=terms)
    assert isinstance(decision, Accepted)
    assert decision.terms == terms
    assert decision.quote.state is QuoteState.WON


@pytest.mark.parametrize("policy", [BillingPolicy.ON_ORDER, BillingPolicy.ON_DELIVERY])
def test_a_down_payment_rate_under_another_policy_is_refused_and_the_quote_stays_active(
    policy: BillingPolicy,
) -> None:
    d = issued()
    decision = accept(d.quote, d.opportunity, terms=BillingTerms(policy, Decimal("0.3")))
    assert code(decision) == "invalid_billing_terms"
    assert isinstance(decision, Refusal)
    assert policy.value in decision.detail
    assert d.quote.state is QuoteState.ACTIVE
    # The same acceptance with terms that hold goes through.
    assert isinstance(accept(d.quote, d.opportunity), Accepted)


def test_an_expired_quote_is_closed_whatever_the_billing_terms_say() -> None:
    d = issued()
    late = accept(
        d.quote,
        d.opportunity,
        now=NOW + timedelta(days=40),
        terms=BillingTerms(BillingPolicy.ON_ORDER, Decimal("0.3")),
    )
    assert isinstance(late, Expired)


# --- rejecting -----------------------------------------------------------------------------


def test_rejecting_closes_the_quote_and_loses_the_opportunity() -> None:
    d = issued()
    decision = reject(d.quote, d.opportunity)
    assert isinstance(decision, Rejected)
    assert (decision.quote.state, decision.quote.status_reason) == (QuoteState.CLOSED, "lost")
    assert (decision.opportunity.state, decision.opportunity.status_reason) == (
        OpportunityState.LOST,
        "lost",
    )
    assert decision.opportunity.actual_revenue is None


def test_only_an_active_quote_is_closed_a_draft_is_revised_or_dropped_with_its_opportunity() -> (
    None
):
    d = drafted()
    assert code(reject(d.quote, d.opportunity, RejectReason.CANCELED)) == "not_active"


def test_reject_refusals() -> None:
    d = issued()
    assert code(reject(None, None)) == "unknown_quote"
    won = accept(d.quote, d.opportunity)
    assert isinstance(won, Accepted)
    assert code(reject(won.quote, won.opportunity)) == "already_won"
    lost = reject(d.quote, d.opportunity)
    assert isinstance(lost, Rejected)
    assert code(reject(lost.quote, lost.opportunity)) == "not_open"
    closed = replace(d.quote, state=QuoteState.CLOSED, status_reason="revised")
    assert code(reject(closed, d.opportunity)) == "not_open"


def test_a_rejection_is_explained_by_its_note_else_by_reason_and_requester() -> None:
    assert domain.rejection_detail(RejectReason.LOST, "went elsewhere", "rep") == "went elsewhere"
    assert domain.rejection_detail(RejectReason.CANCELED, None, "rep") == "canceled (rep)"


def test_an_interest_too_large_to_price_is_left_for_a_person_not_dead_lettered() -> None:
    """A billion units (the most a lead may ask for, contracts.money.MAX_QUANTITY) of a dear
    product overflow what an amount may carry: the opportunity opens, that line has no price and
    the quote stays Draft, as with an unknown product; the priced line keeps its price."""
    dear = {**CATALOG, "SKU-GOLD": item("SKU-GOLD", "99999999999999.99")}
    decision = domain.open_opportunity(
        qualification(*want(("SKU-GOLD", "1000000000"), ("SKU-1001", "3"))),
        existing=None,
        catalog=dear,
        policy=POLICY,
        quote_number="Q-2026-00008",
        now=NOW,
    )
    assert isinstance(decision, Opened)
    gold, widget = decision.quote.lines
    assert (gold.unit_price, widget.unit_price) == (None, Decimal("19.99"))
    assert decision.quote.state is QuoteState.DRAFT


def test_a_revision_beyond_what_an_amount_can_carry_is_refused() -> None:
    q, opp = issued().quote, issued().opportunity
    decision = revise(
        q,
        opp,
        LineRequest(
            sku=None,
            description="x",
            quantity=Decimal(10**9),
            unit_price=Decimal("99999999999999"),
            tax_rate=Decimal("0.19"),
        ),
    )
    assert isinstance(decision, Refusal) and decision.reason_code == "invalid_line"
