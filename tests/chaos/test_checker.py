"""The checker can fail: each invariant is fed a broken history and must report it.

The fixture (conftest.py) is a real history: deals through every path (disqualified,
rejected, left open, revised, paid, delivered twice; billed on order, per shipment in two
shipments, with a down payment deducted; cancelled at once, cancelled as the invoice was paid
(the race, on order and with a down payment), the remainder cancelled after a partial shipment
under each policy, the money a cancellation freed settling the order's open invoice; a returned
line credited after payment and refunded; customer credit applied to another deal's open invoice
of the same account), the other deals of their accounts (28 in all), and one batch of every
poison kind, recorded by `python -m chaos --keep-history` and cut down with
`chaos.archive.trimmed`. Unbroken, it passes every check; each test breaks one thing the way a
bug would and expects the invariant that guards it to fail.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from chaos.history import History, NumberStats, OpportunityRow, Rec
from chaos.verdict import check
from contracts.orders import FulfilmentCompleteness
from contracts.quotes import QuoteCloseStatus
from tests.chaos.edits import (
    TICK_AT,
    cancellation,
    copy_as_new_event,
    deal_with,
    failing,
    first,
    payload,
    policy_deal,
    swap,
    with_payload,
    with_races,
    with_time_and_base,
)


def test_the_recorded_history_passes_every_invariant(history: History) -> None:
    results = check(with_races(with_time_and_base(history)))
    assert [r.name for r in results if not r.passed] == []
    assert all(r.checked > 0 for r in results), [r.name for r in results if not r.checked]


def test_an_effect_published_twice_under_two_event_ids(history: History) -> None:
    history.records.append(copy_as_new_event(first(history, "invoice.posted")))
    broken = failing(history)
    assert "effects_once" in broken
    assert "billed_by_policy" in broken


def test_a_payment_applied_twice(history: History) -> None:
    history.db.payments.append(history.db.payments[0])
    assert "effects_once" in failing(history)


def test_a_lead_without_a_decision_or_with_two(history: History) -> None:
    decided = first(history, "lead.disqualified")
    assert decided.env is not None
    copies = [
        r for r in history.records if r.env is not None and r.env.event_id == decided.env.event_id
    ]
    history.records = [r for r in history.records if r not in copies]
    assert "lead_decided_once" in failing(history)
    history.records.append(decided)
    history.records.append(copy_as_new_event(decided))
    assert "lead_decided_once" in failing(history)


def test_an_opportunity_for_a_lead_that_was_not_qualified(history: History) -> None:
    lead = first(history, "lead.disqualified").key
    history.db.opportunities.append(OpportunityRow(uuid.uuid4(), lead, "open"))
    assert "opportunity_per_qualified_lead" in failing(history)


def test_an_accepted_quote_with_no_order_or_two(history: History) -> None:
    row = history.db.orders[0]
    history.db.orders.remove(row)
    assert "order_per_accepted_quote" in failing(history)
    history.db.orders += [row, replace(row, order_id=uuid.uuid4())]
    assert "order_per_accepted_quote" in failing(history)


def test_a_confirmed_order_without_its_invoice(history: History) -> None:
    deal = deal_with(history, "invoice.paid")
    posted = first(history, "invoice.posted", deal)
    history.records = [r for r in history.records if r is not posted]
    assert posted.env is not None
    invoice_id = posted.env.payload.invoice_id
    history.db.invoices = [i for i in history.db.invoices if i.invoice_id != invoice_id]
    assert "billed_by_policy" in failing(history)


def test_totals_one_cent_apart(history: History) -> None:
    row = history.db.orders[0]
    *head, grand = row.totals
    history.db.orders[0] = replace(row, totals=(*head, grand + Decimal("0.01")))  # type: ignore[arg-type]
    assert failing(history) == {"totals_to_the_cent"}


def test_a_document_whose_lines_do_not_add_up(history: History) -> None:
    posted = first(history, "invoice.posted")
    assert posted.env is not None
    totals = posted.env.payload.totals.model_copy(update={"tax_total": Decimal("0.01")})
    swap(history, posted, with_payload(posted, totals=totals))
    assert "totals_to_the_cent" in failing(history)


def test_payments_that_do_not_add_up(history: History) -> None:
    history.db.payments[0] = replace(history.db.payments[0], amount=Decimal("1.00"))
    assert "totals_to_the_cent" in failing(history)


def test_quote_revisions_out_of_order(history: History) -> None:
    deal = deal_with(history, "quote.closed", "quote.accepted")
    issued = [r for r in history.records if r.key == deal and r.topic == "quote.issued"]
    assert len(issued) == 2
    a, b = issued
    swap(history, a, replace(a, offset=b.offset))
    swap(history, b, replace(b, offset=a.offset))
    assert "legal_transitions" in failing(history)


def test_a_payment_stamped_before_its_invoice(history: History) -> None:
    paid = first(history, "invoice.paid")
    posted = first(history, "invoice.posted", paid.key)
    swap(history, paid, replace(paid, timestamp_ms=posted.timestamp_ms - 1))
    assert "legal_transitions" in failing(history)


def _posting_violations(history: History) -> list[str]:
    (result,) = [r for r in check(history) if r.name == "legal_transitions"]
    return [v for v in result.violations if "(or before) its posting" in v]


def test_one_batch_s_events_a_millisecond_apart_either_way_are_published_together(
    history: History,
) -> None:
    """The broker stamps records as it appends them (LogAppendTime), the partitions of one
    produce request in no set order: an invoice posted and credited in one batch came out a
    millisecond apart, the credit first (seed 1503)."""
    postings = [r for r in history.records if r.topic == "invoice.posted"]
    credited, posted = next(
        (c, p)
        for c in history.records
        if c.topic == "invoice.credited"
        for p in postings
        if payload(p).invoice_id == payload(c).invoice_id
        # a posting the relay sent once (a re-sent copy would keep the old time)
        and sum(1 for o in postings if o.env == p.env) == 1
    )
    assert credited.env is not None and not _posting_violations(history)
    # the posting decided in the credit's batch, appended a millisecond after it
    together = _with_envelope(
        replace(posted, timestamp_ms=credited.timestamp_ms + 1),
        occurred_at=credited.env.occurred_at,
    )
    swap(history, posted, together)
    assert not _posting_violations(history)
    # decided in a batch of its own, after the credit: out of order
    alone = _with_envelope(together, occurred_at=credited.env.occurred_at + timedelta(seconds=1))
    swap(history, together, alone)
    assert _posting_violations(history)


def test_a_row_that_contradicts_the_events(history: History) -> None:
    deal = first(history, "order.cancelled").key
    history.db.orders = [
        replace(o, state="submitted") if o.deal_id == deal else o for o in history.db.orders
    ]
    assert "legal_transitions" in failing(history)


# --- billing and money ----------------------------------------------------------------------


def _order_id(r: Rec) -> uuid.UUID:
    order_id: uuid.UUID = payload(r).order_id
    return order_id


def test_a_cancelled_order_whose_invoice_is_not_credited_in_full(history: History) -> None:
    order_id = _order_id(cancellation(history, shipped=False, refund=False))
    history.db.invoices = [
        replace(i, amount_credited=Decimal(0), balance_due=i.totals[4], state="active")
        if i.order_id == order_id
        else i
        for i in history.db.invoices
    ]
    assert "cancelled_orders_credited" in failing(history)


def test_money_received_on_a_cancelled_order_kept_on_its_invoice(history: History) -> None:
    order_id = _order_id(cancellation(history, shipped=False, refund=True))
    history.db.invoices = [
        replace(i, moved_to_credit=Decimal(0)) if i.order_id == order_id else i
        for i in history.db.invoices
    ]
    assert "cancelled_orders_credited" in failing(history)


def test_money_moved_to_credit_but_no_refund_due_announced(history: History) -> None:
    deal = cancellation(history, shipped=False, refund=True).key
    history.records = [
        r for r in history.records if not (r.key == deal and r.topic == "refund.due")
    ]
    assert "cancelled_orders_credited" in failing(history)


def test_a_cancelled_order_still_billed_for_what_did_not_ship(history: History) -> None:
    order_id = _order_id(cancellation(history, shipped=True, refund=True))
    assert any(n.order_id == order_id for n in history.db.credit_notes)
    history.db.credit_notes = [n for n in history.db.credit_notes if n.order_id != order_id]
    assert "cancelled_orders_credited" in failing(history)


def test_a_cancellation_invoice_svc_never_applied(history: History) -> None:
    order_id = _order_id(cancellation(history, shipped=True, refund=False))
    history.db.billed_orders = [
        replace(o, state="confirmed") if o.order_id == order_id else o
        for o in history.db.billed_orders
    ]
    assert "cancelled_orders_credited" in failing(history)


def test_a_line_billed_beyond_what_was_ordered(history: History) -> None:
    index, row = next((n, i) for n, i in enumerate(history.db.invoices) if i.lines)
    (line_no, quantity), *rest = row.lines
    history.db.invoices[index] = replace(row, lines=((line_no, quantity + 1000), *rest))
    assert "billed_within_ordered" in failing(history)


def test_a_line_credited_beyond_what_was_billed(history: History) -> None:
    index, note = next((n, x) for n, x in enumerate(history.db.credit_notes) if x.order_lines)
    (line_no, quantity), *rest = note.order_lines
    history.db.credit_notes[index] = replace(note, order_lines=((line_no, quantity + 1000), *rest))
    assert "billed_within_ordered" in failing(history)


def test_a_down_payment_beyond_the_order(history: History) -> None:
    index, row = next((n, i) for n, i in enumerate(history.db.invoices) if i.kind == "down_payment")
    history.db.invoices[index] = replace(row, totals=(*row.totals[:4], Decimal("1000000.00")))
    assert "billed_within_ordered" in failing(history)


def test_an_order_billed_on_delivery_for_what_did_not_ship(history: History) -> None:
    deal = policy_deal(history, "on_delivery", shipments=2)
    second = [r for r in history.records if r.key == deal and r.topic == "order.fulfilled"][-1]
    assert second.env is not None
    history.records = [
        r for r in history.records if r.env is None or r.env.event_id != second.env.event_id
    ]
    assert "billed_by_policy" in failing(history)


def test_a_down_payment_never_used_up(history: History) -> None:
    deal = policy_deal(history, "down_payment", shipments=2)
    history.db.invoices = [
        replace(i, amount_credited=Decimal(0))
        if i.deal_id == deal and i.kind == "down_payment"
        else i
        for i in history.db.invoices
    ]
    assert "billed_by_policy" in failing(history)


def test_an_order_with_a_down_payment_it_did_not_ask_for(history: History) -> None:
    deal = policy_deal(history, "on_delivery", shipments=2)
    history.db.invoices = [
        replace(i, kind="down_payment") if i.deal_id == deal else i for i in history.db.invoices
    ]
    assert "billed_by_policy" in failing(history)


def test_receivables_missing_an_entry(history: History) -> None:
    payment = next(e for e in history.db.entries if e.kind == "payment")
    history.db.entries.remove(payment)
    assert failing(history) == {"receivables_balance"}


def test_money_booked_on_the_customer_credit_instead_of_its_invoice(history: History) -> None:
    index, entry = next((n, e) for n, e in enumerate(history.db.entries) if e.kind == "payment")
    history.db.entries[index] = replace(entry, invoice_id=None)
    assert failing(history) == {"receivables_balance"}


def test_customer_credit_that_its_entries_do_not_hold(history: History) -> None:
    credit = history.db.credits[0]
    history.db.credits[0] = replace(credit, balance=credit.balance + Decimal("0.01"))
    assert failing(history) == {"receivables_balance"}


def test_a_refund_paid_out_that_the_receivables_do_not_show(history: History) -> None:
    refund = history.db.refunds[0]
    history.db.entries = [e for e in history.db.entries if e.document_id != refund.refund_id]
    assert failing(history) == {"receivables_balance"}


def test_negative_customer_credit(history: History) -> None:
    due = first(history, "refund.due")
    swap(history, due, with_payload(due, credit_balance=Decimal("-0.01")))
    assert "customer_credit_non_negative" in failing(history)


def test_a_negative_credit_balance_held(history: History) -> None:
    history.db.credits[0] = replace(history.db.credits[0], balance=Decimal("-5.00"))
    assert "customer_credit_non_negative" in failing(history)


def test_credit_note_numbers_with_a_gap_a_duplicate_or_beyond_the_counter(
    history: History,
) -> None:
    index, s = next(
        (n, x) for n, x in enumerate(history.db.numbers) if x.kind == "credit_note" and x.year
    )
    broken = (
        replace(s, documents=s.documents - 1, distinct=s.distinct - 1),  # one missing
        replace(s, distinct=s.distinct - 1),  # one number given twice
        replace(s, last=s.last - 1),  # a number the counter never gave
        replace(s, lowest=2),  # the year did not start at 1
    )
    for stats in broken:
        history.db.numbers[index] = stats
        assert failing(history) == {"document_numbers_gap_free"}, stats
    history.db.numbers[index] = s
    history.db.numbers.append(NumberStats("credit_note", 0, 1, 0, 0, 0, 0))
    assert failing(history) == {"document_numbers_gap_free"}


def test_a_fully_shipped_order_that_is_cancelled(history: History) -> None:
    deal = cancellation(history, shipped=True, refund=False).key
    shipped = first(history, "order.fulfilled", deal)
    swap(history, shipped, with_payload(shipped, completeness=FulfilmentCompleteness.COMPLETE))
    assert "legal_transitions" in failing(history)


def test_a_cancellation_that_misstates_what_shipped(history: History) -> None:
    cancel = cancellation(history, shipped=True, refund=True)
    swap(history, cancel, with_payload(cancel, lines=()))
    assert "legal_transitions" in failing(history)


def test_a_credit_note_issued_twice(history: History) -> None:
    history.records.append(copy_as_new_event(first(history, "invoice.credited")))
    assert "effects_once" in failing(history)


def test_a_credit_note_that_was_rolled_back(history: History) -> None:
    credited = payload(first(history, "invoice.credited"))
    history.db.credit_notes = [
        n for n in history.db.credit_notes if n.credit_note_id != credited.credit_note_id
    ]
    assert "no_rolled_back_events" in failing(history)


def test_a_refund_that_was_rolled_back(history: History) -> None:
    refunded = payload(first(history, "invoice.refunded"))
    history.db.refunds = [r for r in history.db.refunds if r.refund_id != refunded.refund_id]
    assert "no_rolled_back_events" in failing(history)


def test_a_balance_due_that_ignores_a_credit_note(history: History) -> None:
    index, row = next((n, i) for n, i in enumerate(history.db.invoices) if i.amount_credited)
    history.db.invoices[index] = replace(row, balance_due=row.balance_due + row.amount_credited)
    assert "totals_to_the_cent" in failing(history)


def test_invoices_that_bill_a_line_in_full_but_not_to_the_cent(history: History) -> None:
    deal = policy_deal(history, "on_delivery", shipments=2)
    posted = [r for r in history.records if r.key == deal and r.topic == "invoice.posted"][-1]
    cent = Decimal("0.01")
    line, *rest = payload(posted).lines
    line = line.model_copy(
        update={
            name: getattr(line, name) + cent
            for name in ("base_amount", "net_amount", "total_amount")
        }
    )
    totals = payload(posted).totals
    totals = totals.model_copy(
        update={
            name: getattr(totals, name) + cent for name in ("subtotal", "net_total", "grand_total")
        }
    )
    swap(history, posted, with_payload(posted, lines=(line, *rest), totals=totals))
    assert "totals_to_the_cent" in failing(history)


def test_an_active_quote_past_its_validity_after_a_tick(history: History) -> None:
    history = with_time_and_base(history)
    assert "no_active_quote_past_validity" not in failing(history)
    quote = history.db.quotes[0]
    history.db.quotes[0] = replace(
        quote, state="active", valid_until=TICK_AT.date() - timedelta(days=1)
    )
    assert "no_active_quote_past_validity" in failing(history)


def test_a_reminder_twice_or_for_money_no_longer_owed(history: History) -> None:
    history = with_time_and_base(history)
    reminder = first(history, "invoice.dunning")
    history.records.append(copy_as_new_event(reminder))
    assert "reminders_once_and_never_after_payment" in failing(history)
    history.records.remove(history.records[-1])
    swap(history, reminder, with_payload(reminder, amount_due=Decimal("0.01")))
    assert "reminders_once_and_never_after_payment" in failing(history)


def _with_envelope(r: Rec, **changes: object) -> Rec:
    assert r.env is not None
    return replace(r, env=r.env.model_copy(update=changes))


def test_a_time_rule_decided_by_a_worker_clock_or_before_it_was_due(history: History) -> None:
    """What a worker whose clock is hours off (clock_skew) would do if it decided or stamped a
    time rule with its own clock instead of the tick's."""
    history = with_time_and_base(history)
    assert "time_rules_on_the_tick" not in failing(history)
    reminder = first(history, "invoice.dunning")
    # stamped by the worker's clock, three hours ahead of the tick
    skewed = _with_envelope(reminder, occurred_at=TICK_AT + timedelta(hours=3))
    swap(history, reminder, skewed)
    assert "time_rules_on_the_tick" in failing(history)
    swap(history, skewed, reminder)
    # decided without a tick (on the worker's clock)
    untriggered = _with_envelope(reminder, causation_id=uuid.uuid4())
    swap(history, reminder, untriggered)
    assert "time_rules_on_the_tick" in failing(history)
    swap(history, untriggered, reminder)
    # as of the worker's day rather than the tick's
    wrong_day = with_payload(reminder, as_of=TICK_AT.date() + timedelta(days=1))
    swap(history, reminder, wrong_day)
    assert "time_rules_on_the_tick" in failing(history)
    swap(history, wrong_day, reminder)
    # early: a level whose days have not passed by the tick
    early = with_payload(reminder, level_days=30)
    swap(history, reminder, early)
    assert "time_rules_on_the_tick" in failing(history)
    swap(history, early, reminder)
    # twice
    history.records.append(copy_as_new_event(reminder))
    assert "time_rules_on_the_tick" in failing(history)


def test_a_quote_expired_by_a_tick_before_its_last_valid_day(history: History) -> None:
    history = with_time_and_base(history)
    tick = first(history, "clock.ticked")
    assert tick.env is not None
    closed = first(history, "quote.closed")
    expired = _with_envelope(
        with_payload(closed, status=QuoteCloseStatus.EXPIRED),
        causation_id=tick.env.event_id,
        occurred_at=TICK_AT,
    )
    swap(history, closed, expired)
    # the quote is valid through the end of January, the tick is on 8 January
    assert "time_rules_on_the_tick" in failing(history)
    quote_id = payload(closed).quote_id
    history.db.quotes = [
        replace(q, valid_until=TICK_AT.date() - timedelta(days=1)) if q.quote_id == quote_id else q
        for q in history.db.quotes
    ]
    assert "time_rules_on_the_tick" not in failing(history)


def test_base_amounts_not_by_the_rule(history: History) -> None:
    history = with_time_and_base(history)
    issued = first(history, "quote.issued")
    base = payload(issued).base
    wrong = base.model_copy(update={"exchange_rate": Decimal("1.1")})
    swap(history, issued, with_payload(issued, base=wrong))
    assert "base_amounts_by_the_rule" in failing(history)
