"""Opportunities a person manages and quotes as D365 runs them, through quote_svc's handlers
against an in-memory QuoteBook."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.envelope import Envelope, decode
from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    ForecastCategory,
    OpenStatusReason,
    OpportunityCloseReason,
    ReopenOpportunity,
    UpdateOpportunity,
)
from contracts.quotes import OpportunityOutcome, QuoteLineInput
from services.quote_svc.domain import OpportunityState, QuotePolicy, QuoteState, quote_id_for
from services.quote_svc.handlers import HANDLERS, touches_of
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming
from tests.support.quotes import (
    accept,
    command,
    line,
    opportunity_id_of,
    price,
    qualified,
    reject,
    revise,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SECOND = UUID("2d1b6f0e-3c4a-4b5d-8e6f-7a8b9c0d1e2f")


def send(
    book: QuoteBook, envelope: Envelope[Any], policy: QuotePolicy | None = None
) -> list[tuple[str, Any]]:
    out = HANDLERS[envelope.event_type](
        book, Incoming(envelope, "any", 0, 0), policy or QuotePolicy(), NOW
    )
    return [(o.topic, decode(o.payload or b"").payload) for o in out]


def topics(events: list[tuple[str, Any]]) -> list[str]:
    return [t for t, _ in events]


def opened(deal: str = "L1", policy: QuotePolicy | None = None) -> QuoteBook:
    book = QuoteBook()
    send(book, price("SKU-1001", "19.99"))
    send(book, qualified(deal, interests=(("SKU-1001", "10"),)), policy)
    return book


def opportunity(book: QuoteBook, deal: str = "L1") -> Any:
    found = book.opportunity(opportunity_id_of(deal))
    assert found is not None
    return found


def update(**fields: Any) -> Envelope[Any]:
    return command(
        "L1",
        UpdateOpportunity(opportunity_id=opportunity_id_of("L1"), requested_by="rep", **fields),
    )


def close(outcome: str, reason: str, **fields: Any) -> Envelope[Any]:
    return command(
        "L1",
        CloseOpportunity(
            opportunity_id=opportunity_id_of("L1"),
            outcome=OpportunityOutcome(outcome),
            status_reason=OpportunityCloseReason(reason),
            requested_by="rep",
            **fields,
        ),
    )


def reopen() -> Envelope[Any]:
    return command(
        "L1", ReopenOpportunity(opportunity_id=opportunity_id_of("L1"), requested_by="rep")
    )


def second_quote(*lines: QuoteLineInput) -> Envelope[Any]:
    return command(
        "L1",
        CreateQuote(
            opportunity_id=opportunity_id_of("L1"),
            quote_id=SECOND,
            lines=lines or (line("SKU-1001", "20"),),
            requested_by="rep",
        ),
    )


def activate(quote_id: UUID) -> Envelope[Any]:
    return command("L1", ActivateQuote(quote_id=quote_id, requested_by="rep"))


def refused(events: list[tuple[str, Any]]) -> str:
    ((topic, payload),) = events
    assert topic == "quote.rejected"
    return str(payload.reason_code)


def test_a_person_updates_the_estimates_and_a_crm_hears_what_changed() -> None:
    book = opened()

    events = send(
        book,
        update(
            estimated_revenue=Decimal("25000"),
            probability=60,
            forecast_category=ForecastCategory.BEST_CASE,
            estimated_close_date=date(2027, 3, 31),
        ),
    )

    assert topics(events) == ["opportunity.updated"]
    updated = events[0][1]
    assert set(updated.changed) == {
        "estimated_revenue",
        "revenue_given",
        "probability",
        "forecast_category",
        "estimated_close_date",
    }
    assert (updated.reason, updated.estimated_revenue, updated.revenue_given) == (
        "updated",
        Decimal("25000"),
        True,
    )
    # A revision no longer moves a revenue a person gave.
    first = quote_id_for(opportunity_id_of("L1"), 1)
    send(book, revise("L1", first, line("SKU-1001", "1")))
    assert opportunity(book).estimated_revenue == Decimal("25000")
    # Nothing changed, nothing announced.
    assert send(book, update(probability=60)) == []
    (held,) = send(book, update(status_reason=OpenStatusReason.ON_HOLD))
    assert (held[1].changed, held[1].state, held[1].status_reason) == (
        ("status_reason",),
        "open",
        "on_hold",
    )


def test_close_lost_to_a_competitor_closes_the_open_quotes_and_reopen_brings_it_back() -> None:
    book = opened()

    events = send(book, close("lost", "out_sold", competitor="Babbage & Co"))

    assert topics(events) == ["quote.closed", "opportunity.closed"]
    closed = events[1][1]
    assert (closed.outcome, closed.status_reason, closed.competitor, closed.close_date) == (
        "lost",
        "out_sold",
        "Babbage & Co",
        NOW.date(),
    )
    assert events[0][1].status == "lost"
    assert refused(send(book, update(probability=10))) == "not_open"

    events = send(book, reopen())
    assert topics(events) == ["opportunity.updated"]
    again = opportunity(book)
    assert (again.state, again.status_reason, again.competitor, again.close_date) == (
        OpportunityState.OPEN,
        "in_progress",
        None,
        None,
    )
    assert refused(send(book, reopen())) == "not_closed"


def test_close_won_needs_every_quote_closed_and_a_won_deal_cannot_be_reopened() -> None:
    book = opened()
    assert refused(send(book, close("won", "won"))) == "open_quotes"
    assert refused(send(book, close("won", "out_sold"))) == "invalid_status_reason"

    first = quote_id_for(opportunity_id_of("L1"), 1)
    send(book, accept("L1", first))

    assert refused(send(book, reopen())) == "quote_won"


def test_several_quotes_one_won_the_other_canceled() -> None:
    book = opened()
    first = quote_id_for(opportunity_id_of("L1"), 1)

    created = send(book, second_quote())
    assert topics(created) == ["quote.drafted"]
    draft = created[0][1]
    assert (draft.quote_id, draft.quote_number, draft.waiting_for) == (
        SECOND,
        "Q-2026-00002",
        "awaiting_activation",
    )
    assert send(book, second_quote()) == []  # the caller's retry: nothing more
    assert refused(send(book, reject("L1", SECOND))) == "not_active"

    activated = send(book, activate(SECOND))
    assert topics(activated) == ["quote.issued", "opportunity.updated"]
    assert refused(send(book, activate(SECOND))) == "not_draft"

    # The customer turns the first one down: the opportunity stays open for the second.
    assert topics(send(book, reject("L1", first))) == ["quote.closed"]
    assert opportunity(book).state is OpportunityState.OPEN
    # A revision of the second quote keeps its number.
    revised = send(book, revise("L1", SECOND, line("SKU-1001", "30")))
    issued = next(p for t, p in revised if t == "quote.issued")
    assert (issued.quote_number, issued.revision) == ("Q-2026-00002", 2)

    won = send(book, accept("L1", issued.quote_id))
    assert topics(won) == ["quote.accepted", "opportunity.closed"]


def test_winning_one_quote_cancels_the_other_open_ones() -> None:
    book = opened()
    send(book, second_quote())
    send(book, activate(SECOND))
    first = quote_id_for(opportunity_id_of("L1"), 1)

    won = send(book, accept("L1", first))

    assert topics(won) == ["quote.accepted", "quote.closed", "opportunity.closed"]
    assert (won[1][1].quote_id, won[1][1].status) == (SECOND, "canceled")


def test_with_auto_activation_off_a_revision_is_a_draft_activated_explicitly() -> None:
    manual = QuotePolicy(auto_activate=False)
    book = opened(policy=manual)
    first = quote_id_for(opportunity_id_of("L1"), 1)
    assert book.quote(first).state is QuoteState.DRAFT  # type: ignore[union-attr]
    assert refused(send(book, accept("L1", first), manual)) == "not_active"

    assert topics(send(book, activate(first), manual)) == ["quote.issued", "opportunity.updated"]
    revised = send(book, revise("L1", first, line("SKU-1001", "11")), manual)
    assert topics(revised) == ["quote.closed", "quote.drafted"]
    assert revised[1][1].revision == 2


def test_a_draft_without_prices_cannot_be_activated() -> None:
    book = QuoteBook()
    send(book, qualified("L1", interests=(("SKU-NEW", "2"),)))
    first = quote_id_for(opportunity_id_of("L1"), 1)

    assert refused(send(book, activate(first))) == "unpriced_line"


def test_create_quote_batches_take_the_counter_and_load_the_opportunity() -> None:
    batch = [Incoming(second_quote(), "quote.commands", 0, 0)]

    touches = touches_of(batch, QuotePolicy(), NOW)

    assert touches.counter_year == NOW.year
    assert opportunity_id_of("L1") in touches.opportunity_ids
    assert SECOND in touches.quote_ids
