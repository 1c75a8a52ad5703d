"""Corrections: credit notes for lines, an amount or everything left; cancelling an invoice (a
full credit note) and an order (what was billed and will not ship, and the unused down
payment); money already received becomes customer credit and a refund due."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.documents import InvoicingPolicy
from contracts.invoices import InvoicePosted
from contracts.orders import OrderConfirmed
from services.invoice_svc import domain
from tests.support import invoices as s
from tests.support.invoice_driver import EXTERNAL, Desk, on, only, refused, topics

D = Decimal


def invoiced(desk: Desk, deal: str = "D1", **kw: object) -> tuple[OrderConfirmed, InvoicePosted]:
    """An order billed on order: one invoice of 333.10 (line 1: 226.10, line 2: 107.00)."""
    order = s.order_confirmed(deal, **kw)  # type: ignore[arg-type]
    return order.payload, on(desk.send(order), "invoice.posted")[0]


# --- credit notes ----------------------------------------------------------------------------


def test_a_credit_note_for_lines_takes_their_quantities_back_from_the_order() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    events = desk.send(s.credit_invoice("D1", invoice.invoice_id, lines=((1, "2"), (2, "1"))))
    note = only(events, "invoice.credited")
    assert (note.credit_note_number, note.source.value) == ("CN-2026-000001", "native")
    assert [(x.line_no, x.quantity, x.net_amount, x.tax_amount) for x in note.lines] == [
        (1, D(2), D("38.00"), D("7.22")),
        (2, D(1), D("33.33"), D("2.33")),
    ]
    assert [(x.line_no, x.quantity) for x in note.order_lines] == [(1, D(2)), (2, D(1))]
    assert (note.totals.grand_total, note.invoice_balance_due) == (D("80.88"), D("252.22"))
    assert desk.order(order.order_id).billed[1].credited_quantity == D(2)
    assert desk.invoice(invoice.invoice_id).state is domain.InvoiceState.ACTIVE
    assert desk.outstanding(order.account_id) == D("252.22")
    # Credit notes have their own sequence; the invoice counter does not move.
    assert desk.book.credit_counters[2026].last == 1 and desk.book.counters[2026].last == 1


def test_a_credit_note_of_an_amount_is_spread_over_the_tax_rates_in_proportion() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    note = only(
        desk.send(s.credit_invoice("D1", invoice.invoice_id, amount="50.00")), "invoice.credited"
    )
    assert note.order_lines == ()
    # 107.00 of 333.10 at 7 %, 226.10 at 19 %
    assert [(x.tax_rate, x.net_amount, x.tax_amount) for x in note.lines] == [
        (D("0.07"), D("15.01"), D("1.05")),
        (D("0.19"), D("28.52"), D("5.42")),
    ]
    assert note.totals.grand_total == D("50.00")
    assert note.invoice_balance_due == D("283.10")


def test_crediting_everything_left_after_lines_credits_the_rest_line_by_line() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    desk.send(s.credit_invoice("D1", invoice.invoice_id, lines=((1, "2"),)))
    events = desk.send(s.credit_invoice("D1", invoice.invoice_id))
    assert topics(events) == ["invoice.credited", "invoice.cancelled"]
    note = on(events, "invoice.credited")[0]
    assert [(x.line_no, x.quantity) for x in note.order_lines] == [(1, D(8)), (2, D(3))]
    assert note.totals.grand_total == D("333.10") - D("45.22")
    credited = desk.invoice(invoice.invoice_id)
    assert credited.state is domain.InvoiceState.CANCELED
    assert (credited.amount_credited, credited.balance_due) == (D("333.10"), D(0))
    billed = desk.order(order.order_id).billed
    assert [(b.quantity, b.credited_quantity) for b in billed.values()] == [
        (D(10), D(10)),
        (D(3), D(3)),
    ]
    assert refused(desk.send(s.credit_invoice("D1", invoice.invoice_id))) == "nothing_to_credit"


def test_crediting_everything_left_after_an_amount_credits_what_is_left_per_tax_rate() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    desk.send(s.credit_invoice("D1", invoice.invoice_id, amount="50.00"))
    note = on(desk.send(s.credit_invoice("D1", invoice.invoice_id)), "invoice.credited")[0]
    assert note.totals.grand_total == D("283.10")
    assert [(x.tax_rate, x.total_amount) for x in note.lines] == [
        (D("0.07"), D("107.00") - D("16.06")),
        (D("0.19"), D("226.10") - D("33.94")),
    ]
    credited = desk.invoice(invoice.invoice_id)
    assert credited.creditable == 0 and credited.state is domain.InvoiceState.CANCELED
    assert credited.creditable_rates() == {D("0.07"): (D(0), D(0)), D("0.19"): (D(0), D(0))}
    assert desk.outstanding(order.account_id) == 0


@pytest.mark.parametrize(
    ("lines", "amount"),
    [
        (((1, "11"),), None),
        (((3, "1"),), None),
        ((), "333.11"),
    ],
)
def test_more_than_is_left_to_credit_is_refused(
    lines: tuple[tuple[int, str], ...], amount: str | None
) -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    events = desk.send(s.credit_invoice("D1", invoice.invoice_id, lines=lines, amount=amount))
    assert refused(events) == "over_credit"
    assert not desk.book.new_notes and desk.book.credit_counters[2026].last == 0


def test_a_line_credit_beyond_what_an_amount_credit_left_at_its_rate_is_refused() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    desk.send(s.credit_invoice("D1", invoice.invoice_id, amount="300.00"))
    rejected = only(
        desk.send(s.credit_invoice("D1", invoice.invoice_id, lines=((1, "10"),))),
        "invoice.rejected",
    )
    assert rejected.reason_code == "over_credit" and "tax rate 0.19" in rejected.detail


def test_one_line_named_twice_in_a_credit_is_credited_as_its_sum() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    twice = s.credit_invoice("D1", invoice.invoice_id, lines=((1, "6"), (1, "6")))
    assert refused(desk.send(twice)) == "over_credit"
    halves = s.credit_invoice("D1", invoice.invoice_id, lines=((1, "2"), (1, "2")))
    note = only(desk.send(halves), "invoice.credited")
    assert [(x.line_no, x.quantity) for x in note.order_lines] == [(1, D(4))]
    assert note.totals.grand_total == D("90.44")
    assert desk.order(order.order_id).billed[1].credited_quantity == D(4)
    assert desk.invoice(invoice.invoice_id).credited_lines[1].quantity == D(4)


def test_the_same_credit_ref_again_is_a_no_op_on_that_invoice_only() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    credit = s.credit_invoice("D1", invoice.invoice_id, ref="RMA-1", lines=((1, "1"),))
    desk.send(credit)
    assert desk.send(credit.model_copy(update={"event_id": uuid4()})) == []
    assert desk.send(s.credit_invoice("D1", invoice.invoice_id, ref="RMA-1", amount="5")) == []
    assert len(desk.book.new_notes) == 1 and desk.book.credit_counters[2026].last == 1
    _, other = invoiced(desk, "D2")
    events = desk.send(s.credit_invoice("D2", other.invoice_id, ref="RMA-1"))
    assert on(events, "invoice.credited")[0].credit_note_number == "CN-2026-000002"


def test_credit_commands_that_do_not_fit_are_refused() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    assert refused(desk.send(s.credit_invoice("D1", uuid4()))) == "unknown_invoice"
    assert refused(desk.send(s.credit_invoice("D9", invoice.invoice_id))) == "deal_mismatch"
    desk.policy = EXTERNAL
    assert refused(desk.send(s.credit_invoice("D1", invoice.invoice_id))) == "wrong_mode"


# --- cancelling an invoice -------------------------------------------------------------------


def test_cancelling_an_unpaid_invoice_is_a_full_credit_note() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    events = desk.send(s.cancel_invoice("D1", invoice.invoice_id))
    assert topics(events) == ["invoice.credited", "invoice.cancelled"]
    note, cancelled = (e.payload for _, e in events)
    assert note.totals == invoice.totals
    assert (cancelled.reason, cancelled.credit_note_id) == ("issued in error", note.credit_note_id)
    assert cancelled.credit_note_number == "CN-2026-000001"
    assert desk.invoice(invoice.invoice_id).state is domain.InvoiceState.CANCELED
    assert desk.outstanding(order.account_id) == 0 and desk.credit(order.account_id) == 0
    again = s.cancel_invoice("D1", invoice.invoice_id)
    assert refused(desk.send(again)) == "already_cancelled"
    assert refused(desk.send(s.cancel_invoice("D1", uuid4()))) == "unknown_invoice"


def test_cancelling_an_invoice_of_another_deal_is_refused() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    assert refused(desk.send(s.cancel_invoice("D9", invoice.invoice_id))) == "deal_mismatch"


@pytest.mark.parametrize("paid", ["333.10", "100.10"])
def test_cancelling_a_paid_or_partly_paid_invoice_makes_what_was_paid_a_refund_due(
    paid: str,
) -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    desk.send(s.record_payment("D1", paid, invoice_id=invoice.invoice_id))
    events = desk.send(s.cancel_invoice("D1", invoice.invoice_id))
    assert topics(events) == ["invoice.credited", "invoice.cancelled", "refund.due"]
    due = on(events, "refund.due")[0]
    assert (due.amount, due.credit_balance, due.cause.value) == (
        D(paid),
        D(paid),
        "credited_after_payment",
    )
    assert due.credit_note_id == on(events, "invoice.credited")[0].credit_note_id
    assert desk.credit(order.account_id) == D(paid)
    assert desk.outstanding(order.account_id) == -D(paid)
    assert desk.invoice(invoice.invoice_id).balance_due == 0


# --- cancelling an order ---------------------------------------------------------------------


def test_a_cancelled_order_credits_its_unpaid_invoice_in_full() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    events = desk.send(s.order_cancelled("D1", order.order_id, "withdrew"))
    assert topics(events) == ["invoice.credited", "invoice.cancelled"]
    note = on(events, "invoice.credited")[0]
    assert note.totals == invoice.totals and note.reason.endswith("cancelled: withdrew")
    assert desk.order(order.order_id).cancelled
    assert desk.invoice(invoice.invoice_id).state is domain.InvoiceState.CANCELED
    assert desk.send(s.order_cancelled("D1", order.order_id, "again")) == []


def test_a_partly_shipped_order_cancelled_credits_what_was_billed_and_will_not_ship() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    shipped = {1: ("10", "4"), 2: ("3", "3")}
    note = on(
        desk.send(s.order_cancelled("D1", order.order_id, shipped=shipped)), "invoice.credited"
    )
    assert [(x.line_no, x.quantity) for x in note[0].order_lines] == [(1, D(6))]
    assert note[0].totals.grand_total == D("135.66")
    assert desk.invoice(invoice.invoice_id).balance_due == D("197.44") == D("90.44") + D("107.00")


def test_a_cancelled_order_does_not_credit_again_what_a_return_credited() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    desk.send(s.credit_invoice("D1", invoice.invoice_id, lines=((1, "2"),)))
    shipped = {1: ("10", "4"), 2: ("3", "3")}
    events = desk.send(s.order_cancelled("D1", order.order_id, shipped=shipped))
    note = on(events, "invoice.credited")[0]
    assert [(x.line_no, x.quantity) for x in note.order_lines] == [(1, D(4))]


def test_an_order_billed_on_delivery_cancelled_after_a_shipment_credits_nothing() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1", policy=InvoicingPolicy.ON_DELIVERY)
    desk.send(confirmed)
    order_id = confirmed.payload.order_id
    shipped = {1: ("10", "4"), 2: ("3", "0")}
    desk.send(s.order_fulfilled("D1", order_id, "S1", shipped))
    assert desk.send(s.order_cancelled("D1", order_id, shipped=shipped)) == []
    assert desk.order(order_id).cancelled
    assert desk.outstanding(confirmed.payload.account_id) == D("90.44")


@pytest.mark.parametrize("payment_first", [True, False])
def test_a_paid_order_cancelled_is_credited_and_refunded_whichever_comes_first(
    payment_first: bool,
) -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    pay = s.record_payment("D1", "333.10", invoice_id=invoice.invoice_id)
    cancel = s.order_cancelled("D1", order.order_id)
    first, second = (pay, cancel) if payment_first else (cancel, pay)
    desk.send(first)
    events = desk.send(second)
    due = on(events, "refund.due")[0]
    cause = "credited_after_payment" if payment_first else "payment_on_credited_invoice"
    assert (due.amount, due.cause.value) == (D("333.10"), cause)
    assert desk.credit(order.account_id) == D("333.10")
    assert desk.outstanding(order.account_id) == D("-333.10")
    invoice_now = desk.invoice(invoice.invoice_id)
    assert (invoice_now.state, invoice_now.balance_due) == (domain.InvoiceState.CANCELED, D(0))


def test_a_cancelled_order_credits_its_unused_down_payment() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1", policy=InvoicingPolicy.DOWN_PAYMENT)
    dp = only(desk.send(confirmed), "invoice.posted")
    desk.send(s.record_payment("D1", "99.93", invoice_id=dp.invoice_id))
    order_id = confirmed.payload.order_id
    desk.send(s.order_fulfilled("D1", order_id, "S1", {1: ("10", "4"), 2: ("3", "0")}))
    events = desk.send(s.order_cancelled("D1", order_id, shipped={1: ("10", "4"), 2: ("3", "0")}))
    note = on(events, "invoice.credited")
    assert [n.invoice_id for n in note] == [dp.invoice_id]
    assert note[0].totals.grand_total == D("99.93") - D("67.83")
    # The 32.10 the unused down payment frees settles the 22.61 the shipment still asks first;
    # the rest is due back.
    (applied,) = on(events, "invoice.credit_applied")
    assert (applied.amount, applied.invoice_balance_due) == (D("22.61"), D("0.00"))
    due = on(events, "refund.due")[0]
    assert (due.amount, due.cause.value) == (D("9.49"), "credited_after_payment")
    assert desk.order(order_id).down_payment.left() == {}  # type: ignore[union-attr]
    # 90.44 billed for what shipped, 67.83 of it settled by the down payment.
    assert desk.outstanding(confirmed.payload.account_id) == D("22.61") - D("32.10")


def test_a_cancelled_order_after_an_amount_credit_credits_no_more_than_is_left() -> None:
    desk = Desk()
    order, invoice = invoiced(desk)
    desk.send(s.credit_invoice("D1", invoice.invoice_id, amount="300.00"))
    events = desk.send(s.order_cancelled("D1", order.order_id))
    assert on(events, "invoice.credited")[0].totals.grand_total == D("33.10")
    credited = desk.invoice(invoice.invoice_id)
    assert (credited.creditable, credited.state) == (D(0), domain.InvoiceState.CANCELED)
    assert desk.outstanding(order.account_id) == 0


# --- the down payment invoice corrected ------------------------------------------------------


def test_a_cancelled_down_payment_invoice_is_not_deducted_again() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1", policy=InvoicingPolicy.DOWN_PAYMENT)
    dp = only(desk.send(confirmed), "invoice.posted")
    desk.send(s.cancel_invoice("D1", dp.invoice_id))
    shipped = {1: ("10", "10"), 2: ("3", "3")}
    events = desk.send(s.order_fulfilled("D1", confirmed.payload.order_id, "S1", shipped))
    assert topics(events) == ["invoice.posted"]
    assert on(events, "invoice.posted")[0].deductions == ()
    assert desk.invoice(dp.invoice_id).amount_credited == D("99.93")
    assert desk.outstanding(confirmed.payload.account_id) == D("333.10")


def test_a_down_payment_credited_in_part_is_deducted_only_for_what_is_left() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1", policy=InvoicingPolicy.DOWN_PAYMENT)
    dp = only(desk.send(confirmed), "invoice.posted")
    desk.send(s.credit_invoice("D1", dp.invoice_id, amount="50.00"))
    shipped = {1: ("10", "10"), 2: ("3", "3")}
    events = desk.send(s.order_fulfilled("D1", confirmed.payload.order_id, "S1", shipped))
    posted = on(events, "invoice.posted")[0]
    assert sum(x.total_amount for x in posted.deductions) == D("49.93")
    dp_now = desk.invoice(dp.invoice_id)
    assert (dp_now.amount_credited, dp_now.balance_due) == (D("99.93"), D(0))
    # Less was asked in advance; the order itself is still billed in full.
    assert desk.outstanding(confirmed.payload.account_id) == D("333.10")


def test_a_credit_of_a_fraction_of_a_cent_is_refused_not_rounded() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    events = desk.send(s.credit_invoice("D1", invoice.invoice_id, amount="10.005"))
    assert refused(events) == "invalid_amount"


def test_credit_refs_of_salesflow_itself_are_reserved() -> None:
    desk = Desk()
    _, invoice = invoiced(desk)
    events = desk.send(s.credit_invoice("D1", invoice.invoice_id, ref="salesflow:cancel:x"))
    assert refused(events) == "reserved_ref"
