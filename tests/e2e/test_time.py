"""Time through the four workers, moved by ticks as the scheduler sends them: a quote past its
validity expires on its own, an unpaid invoice goes overdue and gets its reminders, and the
payment stops them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.ticker import publish_tick
from tests.support.pipeline import Pipeline, accept, issued_quote, lead_of, pay

pytestmark = pytest.mark.e2e


def _at(day: datetime) -> datetime:
    # Today's time of day: a tick's id is its time, and another run's tick of the same time
    # would be a duplicate to every inbox.
    return day.replace(
        hour=datetime.now(UTC).hour,
        minute=datetime.now(UTC).minute,
        second=datetime.now(UTC).second,
        microsecond=datetime.now(UTC).microsecond,
    )


async def test_a_quote_expires_an_invoice_is_reminded_and_payment_stops_it(
    pipeline: Pipeline,
) -> None:
    kafka = pipeline.endpoints.kafka
    # A quote nobody answers, and one accepted and invoiced.
    lapsing = lead_of("lapse")
    await issued_quote(pipeline, lapsing)
    paying = lead_of("dun")
    quote = await issued_quote(pipeline, paying)
    await accept(pipeline, paying.deal_id, quote)
    (invoice,) = await pipeline.events(paying.deal_id, "invoice.posted")
    due = datetime.combine(invoice.payload.due_date, datetime.min.time(), tzinfo=UTC)

    # 31 days on: past the quote's 30 days (and one day past the invoice's due date).
    await publish_tick(kafka, _at(datetime.now(UTC) + timedelta(days=31)), 3600)
    (closed,) = await pipeline.events(lapsing.deal_id, "quote.closed")
    assert closed.payload.status.value == "expired"
    (overdue,) = await pipeline.events(paying.deal_id, "invoice.overdue")
    assert overdue.payload.amount_due == invoice.payload.totals.grand_total

    # Reminders by days past due (7, 21, 45 by default): levels 1 and 2 as time moves on.
    await publish_tick(kafka, _at(due + timedelta(days=8)), 3600)
    await pipeline.events(paying.deal_id, "invoice.dunning")
    await publish_tick(kafka, _at(due + timedelta(days=22)), 3600)
    reminders = await pipeline.events(paying.deal_id, "invoice.dunning", count=2)
    assert [r.payload.level for r in reminders] == [1, 2]

    # Paid: the third level never comes.
    await pay(pipeline, paying.deal_id, invoice, invoice.payload.totals.grand_total, 1)
    await pipeline.events(paying.deal_id, "invoice.paid")
    await publish_tick(kafka, _at(due + timedelta(days=60)), 3600)
    await pipeline.reader.settle(2.0)
    kinds = [topic for topic, _ in pipeline.all_events(paying.deal_id)]
    assert kinds.count("invoice.dunning") == 2
    assert kinds.count("invoice.overdue") == 1
    # The quote of the paid deal was won, not expired; the lapsed one has no order.
    assert "quote.closed" not in kinds
    assert "quote.accepted" not in [t for t, _ in pipeline.all_events(lapsing.deal_id)]
