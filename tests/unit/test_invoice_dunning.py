"""Overdue invoices and dunning on ticks: the boundaries, each level once, none once settled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.due import days_past_due, is_overdue
from contracts.invoices import InvoicePosted
from salesflow.receivables import AGEING, ageing_bucket
from services.invoice_svc import domain
from shared.ticker import tick_envelope
from tests.support import invoices as s
from tests.support.invoice_driver import NATIVE, Desk, Events, on, topics

D = Decimal


def posted(desk: Desk, deal: str = "D1") -> InvoicePosted:
    (invoice,) = on(desk.send(s.order_confirmed(deal)), "invoice.posted")
    return invoice  # type: ignore[no-any-return]


def at_day(due: date, days_past: int) -> datetime:
    """A tick in the middle of the day `days_past` days after `due` (negative: before it)."""
    return datetime(due.year, due.month, due.day, 6, tzinfo=UTC) + timedelta(days=days_past)


def tick(desk: Desk, at: datetime) -> Events:
    return desk.send(tick_envelope(at, 3600))


def levels(events: Events) -> list[int]:
    return [p.level for p in on(events, "invoice.dunning")]


def test_days_past_due_and_overdue_at_each_boundary() -> None:
    due = date(2026, 12, 27)
    assert [days_past_due(due, due + timedelta(days=d)) for d in (-3, 0, 1, 45)] == [0, 0, 1, 45]
    assert not is_overdue(due, due)
    assert is_overdue(due, due + timedelta(days=1))
    assert not is_overdue(due, due + timedelta(days=5), grace_days=5)
    assert is_overdue(due, due + timedelta(days=6), grace_days=5)
    # The receivables' ageing counts the same days: current on the due date, 1-30 the day after.
    assert AGEING[ageing_bucket(due, due)] == "current"
    assert AGEING[ageing_bucket(due, due + timedelta(days=1))] == "1-30"


def test_overdue_the_day_after_the_due_date_then_each_level_once() -> None:
    desk = Desk()
    invoice = posted(desk)
    due = invoice.due_date

    assert tick(desk, at_day(due, -1)) == []
    assert tick(desk, at_day(due, 0)) == []
    first = tick(desk, at_day(due, 1))
    assert topics(first) == ["invoice.overdue"]
    overdue = on(first, "invoice.overdue")[0]
    assert (overdue.days_overdue, overdue.amount_due, overdue.grace_days) == (
        1,
        invoice.totals.grand_total,
        0,
    )
    assert first[0][1].deal_id == "D1"
    assert tick(desk, at_day(due, 6)) == []
    assert levels(tick(desk, at_day(due, 7))) == [1]
    assert tick(desk, at_day(due, 7) + timedelta(hours=1)) == []
    assert tick(desk, at_day(due, 20)) == []
    assert levels(tick(desk, at_day(due, 21))) == [2]
    last = tick(desk, at_day(due, 45))
    reminder = on(last, "invoice.dunning")[0]
    assert (reminder.level, reminder.level_days, reminder.final, reminder.days_overdue) == (
        3,
        45,
        True,
        45,
    )
    # Past the last level nothing more; an older tick (late, or redelivered) repeats nothing.
    assert tick(desk, at_day(due, 200)) == []
    assert tick(desk, at_day(due, 8)) == []
    stored = desk.invoice(invoice.invoice_id)
    assert (stored.overdue_on, stored.dunning_level) == (due + timedelta(days=1), 3)


def test_a_tick_that_finds_several_levels_reached_sends_only_the_highest() -> None:
    desk = Desk()
    invoice = posted(desk)

    events = tick(desk, at_day(invoice.due_date, 30))

    assert topics(events) == ["invoice.overdue", "invoice.dunning"]
    assert levels(events) == [2]
    assert levels(tick(desk, at_day(invoice.due_date, 45))) == [3]


def test_a_partly_paid_invoice_is_reminded_of_what_it_still_asks() -> None:
    desk = Desk()
    invoice = posted(desk)
    desk.send(s.record_payment("D1", "100.00", invoice_id=invoice.invoice_id))

    events = tick(desk, at_day(invoice.due_date, 7))

    assert [p.amount_due for p in on(events, "invoice.dunning")] == [
        invoice.totals.grand_total - D("100.00")
    ]


def test_payment_or_a_credit_note_in_full_stops_the_reminders() -> None:
    desk = Desk()
    paid = posted(desk, "D1")
    credited = posted(desk, "D2")
    assert levels(tick(desk, at_day(paid.due_date, 7))) == [1, 1]

    desk.send(s.record_payment("D1", str(paid.totals.grand_total), invoice_id=paid.invoice_id))
    desk.send(s.credit_invoice("D2", credited.invoice_id, ref="ALL"))

    assert tick(desk, at_day(paid.due_date, 21)) == []
    assert tick(desk, at_day(paid.due_date, 90)) == []


def test_grace_and_levels_are_the_deployments() -> None:
    desk = Desk(policy=domain.InvoicingPolicy(overdue_grace_days=3, dunning_days=(2, 10)))
    invoice = posted(desk)
    due = invoice.due_date

    # Level 1 is at 2 days, but nothing is sent before the invoice is overdue (after the grace).
    assert tick(desk, at_day(due, 3)) == []
    assert topics(tick(desk, at_day(due, 4))) == ["invoice.overdue", "invoice.dunning"]
    assert levels(tick(desk, at_day(due, 10))) == [2]
    none = Desk(policy=domain.InvoicingPolicy(dunning_days=()))
    other = posted(none)
    assert topics(tick(none, at_day(other.due_date, 60))) == ["invoice.overdue"]


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.integers(min_value=-5, max_value=80),  # a tick at due + n days
            st.just("pay"),
            st.just("pay_part"),
        ),
        max_size=25,
    )
)
def test_each_level_at_most_once_and_none_after_payment(steps: list[int | str]) -> None:
    desk = Desk(policy=NATIVE)
    invoice = posted(desk)
    sent: list[int] = []
    overdue = 0
    settled = False
    for n, step in enumerate(steps):
        if step == "pay" and not settled:
            balance = desk.invoice(invoice.invoice_id).balance_due
            desk.send(s.record_payment("D1", str(balance), invoice_id=invoice.invoice_id))
            settled = True
        elif step == "pay_part" and not settled:
            desk.send(
                s.record_payment("D1", "1.00", invoice_id=invoice.invoice_id, payment_id=f"P-{n}")
            )
        elif isinstance(step, int):
            events = tick(desk, at_day(invoice.due_date, step))
            if settled:
                assert events == [], "a reminder after payment"
            sent += levels(events)
            overdue += len(on(events, "invoice.overdue"))
    assert len(sent) == len(set(sent)), f"a level sent twice: {sent}"
    assert sent == sorted(sent)
    assert overdue <= 1
