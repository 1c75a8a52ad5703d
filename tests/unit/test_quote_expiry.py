"""Quote expiry by ticks: the handler against an in-memory QuoteBook, time given by the tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.envelope import Envelope, decode
from services.quote_svc.domain import OpportunityState, QuotePolicy, QuoteState, quote_id_for
from services.quote_svc.handlers import HANDLERS, touches_of
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming, Outgoing
from shared.ticker import tick_envelope
from tests.support.quotes import accept, opportunity_id_of, price, qualified

ISSUED = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
# Issued on the 27th with 30 days of validity: valid through 2026-12-27.
LAST_VALID_DAY = datetime(2026, 12, 27, tzinfo=UTC)


def handle(
    book: QuoteBook, envelope: Envelope[Any], policy: QuotePolicy, now: datetime = ISSUED
) -> list[Outgoing]:
    return HANDLERS[envelope.event_type](book, Incoming(envelope, "any", 0, 0), policy, now)


def events(out: list[Outgoing]) -> list[tuple[str, Envelope[Any]]]:
    return [(o.topic, decode(o.payload or b"")) for o in out]


def issued_book(policy: QuotePolicy, *deals: str) -> QuoteBook:
    book = QuoteBook()
    handle(book, price("SKU-1001", "19.99"), policy)
    for deal in deals:
        handle(book, qualified(deal, interests=(("SKU-1001", "3"),)), policy)
    return book


def tick(book: QuoteBook, at: datetime, policy: QuotePolicy) -> list[tuple[str, Envelope[Any]]]:
    # The wall clock given to the handler is far from the tick's time: only the tick counts.
    return events(handle(book, tick_envelope(at, 3600), policy, now=ISSUED))


@pytest.mark.parametrize(
    ("at", "expires"),
    [
        (LAST_VALID_DAY - timedelta(days=1), False),
        (LAST_VALID_DAY, False),
        (LAST_VALID_DAY + timedelta(hours=23, minutes=59), False),
        (LAST_VALID_DAY + timedelta(days=1), True),
        (LAST_VALID_DAY + timedelta(days=90), True),
    ],
)
def test_an_active_quote_expires_on_the_first_tick_after_its_last_valid_day(
    at: datetime, expires: bool
) -> None:
    policy = QuotePolicy()
    book = issued_book(policy, "L1")
    quote_id = quote_id_for(opportunity_id_of("L1"), 1)

    out = tick(book, at, policy)

    if not expires:
        assert out == []
        assert book.quote(quote_id).state is QuoteState.ACTIVE  # type: ignore[union-attr]
        return
    assert [t for t, _ in out] == ["quote.closed"]
    envelope = out[0][1]
    assert (envelope.deal_id, envelope.occurred_at) == ("L1", at)
    assert (envelope.payload.quote_id, envelope.payload.status) == (quote_id, "expired")
    assert "2026-12-27" in envelope.payload.detail
    quote = book.quote(quote_id)
    assert quote is not None
    assert (quote.state, quote.status_reason, quote.closed_at) == (
        QuoteState.CLOSED,
        "expired",
        at,
    )
    # The default keeps the opportunity open: a person may revise the quote.
    opportunity = book.opportunity(opportunity_id_of("L1"))
    assert opportunity is not None and opportunity.state is OpportunityState.OPEN


def test_a_second_tick_finds_nothing_more_and_an_earlier_one_undoes_nothing() -> None:
    policy = QuotePolicy()
    book = issued_book(policy, "L1", "L2")
    later = LAST_VALID_DAY + timedelta(days=2)

    assert len(tick(book, later, policy)) == 2
    assert tick(book, later + timedelta(hours=1), policy) == []
    assert tick(book, LAST_VALID_DAY, policy) == []


def test_the_policy_may_close_the_opportunity_lost_with_the_expired_quote() -> None:
    policy = QuotePolicy(expiry_closes_opportunity=True)
    book = issued_book(policy, "L1")

    out = tick(book, LAST_VALID_DAY + timedelta(days=1), policy)

    assert [t for t, _ in out] == ["quote.closed", "opportunity.closed"]
    closed = out[1][1].payload
    assert (closed.outcome, closed.status_reason, closed.actual_revenue) == (
        "lost",
        "canceled",
        None,
    )
    opportunity = book.opportunity(opportunity_id_of("L1"))
    assert opportunity is not None and opportunity.state is OpportunityState.LOST


def test_won_drafts_and_closed_quotes_never_expire() -> None:
    policy = QuotePolicy()
    book = issued_book(policy, "L1")
    quote_id = quote_id_for(opportunity_id_of("L1"), 1)
    handle(book, accept("L1", quote_id), policy)
    drafts = QuotePolicy(auto_activate=False)
    handle(book, qualified("L2", interests=(("SKU-1001", "1"),)), drafts)

    assert tick(book, LAST_VALID_DAY + timedelta(days=400), policy) == []


def test_a_tick_asks_the_store_for_what_expired_by_its_day() -> None:
    at = LAST_VALID_DAY + timedelta(days=1, hours=5)
    batch = [
        Incoming(tick_envelope(at - timedelta(days=3), 3600), "clock.ticks", 0, 0),
        Incoming(tick_envelope(at, 3600), "clock.ticks", 0, 1),
    ]

    touches = touches_of(batch, QuotePolicy(), ISSUED)

    assert touches.expiring_as_of == at.date()
    assert touches.counter_year is None
