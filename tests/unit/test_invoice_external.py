"""The accounting system bills (external mode): its invoices for all or part of an order are
checked to the cent against what is still unbilled, held while their order is unknown, and its
credit notes are registered like them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.documents import DocumentTotals
from contracts.envelope import Envelope
from contracts.orders import OrderConfirmed
from services.invoice_svc import domain
from tests.support import invoices as s
from tests.support.invoice_driver import (
    EXTERNAL,
    NATIVE,
    Desk,
    erp_invoice,
    native_book,
    only,
    refused,
    topics,
)

D = Decimal


def totals(subtotal: str, discount: str, net: str, tax: str, grand: str) -> DocumentTotals:
    return DocumentTotals(
        subtotal=D(subtotal),
        discount_total=D(discount),
        net_total=D(net),
        tax_total=D(tax),
        grand_total=D(grand),
    )


# 4 of line 1's 10 units; then the rest of the order.
FOUR_OF_LINE_1 = totals("79.96", "3.96", "76.00", "14.44", "90.44")
THE_REST = totals("219.94", "5.94", "214.00", "28.66", "242.66")
EIGHT_OF_LINE_1 = totals("159.92", "7.92", "152.00", "28.88", "180.88")


def erp_desk() -> tuple[Desk, Envelope[OrderConfirmed]]:
    desk = Desk(policy=EXTERNAL)
    order = s.order_confirmed("D1")
    assert desk.send(order) == []
    return desk, order


# --- mode ----------------------------------------------------------------------------------


def test_in_native_mode_an_erp_invoice_is_refused_wrong_mode() -> None:
    order = s.order_confirmed("D1")
    events = Desk().send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    assert refused(events) == "wrong_mode"


def test_in_external_mode_a_confirmed_order_is_only_recorded() -> None:
    desk, order = erp_desk()
    assert list(desk.book.changed_orders) == [order.payload.order_id]
    assert not desk.book.new_invoice_ids


# --- the whole order -----------------------------------------------------------------------


def test_an_erp_invoice_for_the_whole_order_is_posted_with_the_erp_fields() -> None:
    desk, order = erp_desk()
    posted = only(
        desk.send(s.register_external("D1", order.payload.order_id, "ERP-1")), "invoice.posted"
    )
    assert posted.source.value == "external"
    assert (posted.external_invoice_id, posted.invoice_number) == ("ERP-1", "ERP-ERP-1")
    assert (posted.issue_date, posted.due_date) == (date(2026, 11, 27), date(2026, 12, 27))
    assert posted.lines == order.payload.lines
    assert posted.totals == order.payload.totals
    invoice = desk.invoice(posted.invoice_id)
    assert invoice.balance_due == D("333.10")
    assert desk.order(order.payload.order_id).fully_billed
    entry = desk.book.new_entries[-1]
    assert (entry.kind, entry.amount, entry.occurred_on) == (
        domain.EntryKind.INVOICE,
        D("333.10"),
        date(2026, 11, 27),
    )
    assert entry.due_date == date(2026, 12, 27)


def test_an_erp_invoice_ahead_of_its_order_is_held_then_posted_when_the_order_arrives() -> None:
    order = s.order_confirmed("D1")
    register = s.register_external("D1", order.payload.order_id, "ERP-1")
    first_batch = Desk(policy=EXTERNAL)
    assert first_batch.send(register) == []
    claim = first_batch.book.new_held["ERP-1"]
    # A later batch: the held claim is loaded from the table.
    desk = Desk(policy=EXTERNAL, book=native_book())
    desk.book.held["ERP-1"] = claim
    posted = only(desk.send(order), "invoice.posted")
    assert (posted.source.value, posted.external_invoice_id) == ("external", "ERP-1")
    assert posted.lines == order.payload.lines
    assert desk.book.released == {"ERP-1"} and not desk.book.held
    # The same ERP invoice registered again is a silent no-op.
    assert desk.send(register.model_copy(update={"event_id": uuid4()})) == []
    assert len(desk.book.new_invoice_ids) == 1


def test_an_erp_invoice_registered_twice_while_held_is_held_once() -> None:
    order = s.order_confirmed("D1")
    register = s.register_external("D1", order.payload.order_id, "ERP-1")
    desk = Desk(policy=EXTERNAL)
    desk.send(register)
    assert desk.send(register.model_copy(update={"event_id": uuid4()})) == []
    assert list(desk.book.held) == ["ERP-1"]


def test_held_and_released_in_one_batch_never_reaches_the_table() -> None:
    order = s.order_confirmed("D1")
    desk = Desk(policy=EXTERNAL)
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    only(desk.send(order), "invoice.posted")
    assert not desk.book.new_held and not desk.book.released


def test_a_held_erp_invoice_that_does_not_match_is_refused_as_the_command_it_was() -> None:
    order = s.order_confirmed("D1")
    off = s.totals_of(s.priced_lines()).model_copy(update={"grand_total": D("333.00")})
    register = s.register_external("D1", order.payload.order_id, "ERP-1", totals=off)
    desk = Desk(policy=EXTERNAL)
    desk.send(register)
    rejected = only(desk.send(order), "invoice.rejected")
    assert (rejected.reason_code, rejected.command_type) == (
        "totals_mismatch",
        "invoice.register_external",
    )
    assert rejected.command_event_id == register.event_id
    assert "grand_total 333.00 vs 333.10 (difference -0.10)" in rejected.detail
    assert not desk.book.new_invoice_ids


def test_two_whole_erp_invoices_held_for_one_order_post_the_first_refuse_the_second() -> None:
    order = s.order_confirmed("D1")
    desk = Desk(policy=EXTERNAL)
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-2"))
    events = desk.send(order)
    assert topics(events) == ["invoice.posted", "invoice.rejected"]
    assert events[0][1].payload.external_invoice_id == "ERP-1"
    assert events[1][1].payload.reason_code == "order_fully_invoiced"
    assert events[1][1].payload.subject_id == "ERP-2"


def test_an_erp_invoice_held_before_a_switch_to_native_mode_is_refused_wrong_mode() -> None:
    order = s.order_confirmed("D1")
    desk = Desk(policy=EXTERNAL)
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    desk.policy = NATIVE
    events = desk.send(order)
    assert topics(events) == ["invoice.rejected", "invoice.posted"]
    assert events[0][1].payload.reason_code == "wrong_mode"
    assert events[1][1].payload.source.value == "native"


@pytest.mark.parametrize(
    ("deal", "currency", "cancel", "code"),
    [
        ("D9", "EUR", False, "deal_mismatch"),
        ("D1", "USD", False, "currency_mismatch"),
        ("D1", "EUR", True, "order_cancelled"),
    ],
)
def test_an_erp_invoice_that_does_not_fit_its_order_is_refused(
    deal: str, currency: str, cancel: bool, code: str
) -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    if cancel:
        desk.send(s.order_cancelled("D1", order_id))
    events = desk.send(s.register_external(deal, order_id, "ERP-1", currency=currency))
    rejected = only(events, "invoice.rejected")
    assert (rejected.reason_code, rejected.command_type) == (code, "invoice.register_external")
    assert rejected.subject_id == "ERP-1"
    assert not desk.book.new_invoice_ids


def test_erp_totals_off_by_a_cent_are_refused_with_the_difference() -> None:
    desk, order = erp_desk()
    off = s.totals_of(s.priced_lines()).model_copy(
        update={"tax_total": D("43.09"), "grand_total": D("333.09")}
    )
    events = desk.send(s.register_external("D1", order.payload.order_id, "ERP-1", totals=off))
    rejected = only(events, "invoice.rejected")
    assert rejected.reason_code == "totals_mismatch"
    assert "tax_total 43.09 vs 43.10 (difference -0.01)" in rejected.detail
    assert "grand_total 333.09 vs 333.10 (difference -0.01)" in rejected.detail


def test_an_erp_invoice_number_already_taken_is_refused() -> None:
    desk, order = erp_desk()
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1", invoice_number="N-1"))
    other = s.order_confirmed("D2")
    desk.send(other)
    events = desk.send(
        s.register_external("D2", other.payload.order_id, "ERP-2", invoice_number="N-1")
    )
    assert refused(events) == "duplicate_invoice_number"


def test_a_payment_can_name_the_erp_invoice_and_two_names_must_agree() -> None:
    desk, order = erp_desk()
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    paid = only(
        desk.send(s.record_payment("D1", "333.10", external_invoice_id="ERP-1")), "invoice.paid"
    )
    assert paid.status.value == "complete"
    mismatch = s.record_payment("D1", "1", invoice_id=uuid4(), external_invoice_id="ERP-1")
    assert refused(desk.send(mismatch)) == "unknown_invoice"


# --- part of an order ----------------------------------------------------------------------


def test_two_erp_invoices_bill_one_order_in_parts_that_add_up_to_it() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    first = only(
        desk.send(erp_invoice("D1", order_id, "ERP-1", ((1, "4", None, None),), FOUR_OF_LINE_1)),
        "invoice.posted",
    )
    assert [(x.line_no, x.quantity, x.net_amount) for x in first.lines] == [(1, D(4), D("76.00"))]
    assert not desk.order(order_id).fully_billed
    rest = s.register_external("D1", order_id, "ERP-2", totals=THE_REST)
    second = only(desk.send(rest), "invoice.posted")
    assert [(x.line_no, x.quantity) for x in second.lines] == [(1, D(6)), (2, D(3))]
    assert first.totals.grand_total + second.totals.grand_total == D("333.10")
    assert desk.order(order_id).fully_billed
    everything = s.register_external("D1", order_id, "ERP-3")
    assert refused(desk.send(everything)) == "order_fully_invoiced"


def test_erp_line_amounts_are_checked_to_the_cent() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    off = erp_invoice("D1", order_id, "ERP-1", ((1, "4", "76.00", "14.45"),), FOUR_OF_LINE_1)
    rejected = only(desk.send(off), "invoice.rejected")
    assert rejected.reason_code == "totals_mismatch"
    assert "line 1" in rejected.detail and "14.45" in rejected.detail
    exact = erp_invoice("D1", order_id, "ERP-2", ((1, "4", "76.00", "14.44"),), FOUR_OF_LINE_1)
    assert topics(desk.send(exact)) == ["invoice.posted"]


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (((1, "11", None, None),), "over_billing"),
        (((3, "1", None, None),), "unknown_line"),
    ],
)
def test_an_erp_invoice_for_more_than_is_unbilled_or_an_unknown_line_is_refused(
    lines: tuple[tuple[int, str, str | None, str | None], ...], code: str
) -> None:
    desk, order = erp_desk()
    events = desk.send(erp_invoice("D1", order.payload.order_id, "ERP-1", lines, FOUR_OF_LINE_1))
    assert refused(events) == code


def test_a_second_erp_invoice_may_not_bill_what_the_first_billed() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    desk.send(erp_invoice("D1", order_id, "ERP-1", ((1, "4", None, None),), FOUR_OF_LINE_1))
    again = erp_invoice("D1", order_id, "ERP-2", ((1, "7", None, None),), FOUR_OF_LINE_1)
    rejected = only(desk.send(again), "invoice.rejected")
    assert (rejected.reason_code, rejected.subject_id) == ("over_billing", "ERP-2")
    assert "7 billed, 6 left unbilled" in rejected.detail


def test_one_order_line_named_twice_on_an_erp_invoice_is_billed_as_its_sum() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    twice = ((1, "8", None, None), (1, "8", None, None))
    over = erp_invoice("D1", order_id, "ERP-1", twice, EIGHT_OF_LINE_1)
    assert refused(desk.send(over)) == "over_billing"
    halves = ((1, "4", None, None), (1, "4", None, None))
    posted = only(
        desk.send(erp_invoice("D1", order_id, "ERP-2", halves, EIGHT_OF_LINE_1)), "invoice.posted"
    )
    assert [(x.line_no, x.quantity) for x in posted.lines] == [(1, D(8))]
    assert desk.order(order_id).billed[1].quantity == D(8)


# --- the accounting system's credit notes --------------------------------------------------


def erp_invoiced() -> tuple[Desk, Envelope[OrderConfirmed]]:
    desk, order = erp_desk()
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    return desk, order


def test_an_erp_credit_note_for_lines_is_checked_and_registered_once() -> None:
    desk, order = erp_invoiced()
    note = s.register_external_credit("D1", "ERP-1", "ERP-CN-1", FOUR_OF_LINE_1, lines=((1, "4"),))
    credited = only(desk.send(note), "invoice.credited")
    assert (credited.source.value, credited.external_credit_note_id) == ("external", "ERP-CN-1")
    assert (credited.credit_note_number, credited.issue_date) == (
        "ERP-ERP-CN-1",
        date(2026, 11, 28),
    )
    assert [(x.line_no, x.quantity) for x in credited.order_lines] == [(1, D(4))]
    assert credited.invoice_balance_due == D("242.66")
    billed = desk.order(order.payload.order_id).billed[1]
    assert (billed.quantity, billed.credited_quantity) == (D(10), D(4))
    assert desk.send(note.model_copy(update={"event_id": uuid4()})) == []
    assert len(desk.book.new_notes) == 1


def test_an_erp_credit_note_of_an_amount_is_spread_over_the_tax_rates() -> None:
    desk, _ = erp_invoiced()
    amount = totals("0", "0", "0", "0", "33.31")
    credited = only(
        desk.send(s.register_external_credit("D1", "ERP-1", "ERP-CN-1", amount)),
        "invoice.credited",
    )
    assert credited.order_lines == ()
    assert sum(x.total_amount for x in credited.lines) == D("33.31")
    assert credited.invoice_balance_due == D("299.79")


@pytest.mark.parametrize(
    ("policy", "note_totals", "lines", "code"),
    [
        (NATIVE, FOUR_OF_LINE_1, ((1, "4"),), "wrong_mode"),
        (EXTERNAL, THE_REST, ((1, "4"),), "totals_mismatch"),
        (EXTERNAL, FOUR_OF_LINE_1, ((1, "11"),), "over_credit"),
        (EXTERNAL, totals("0", "0", "0", "0", "333.11"), (), "over_credit"),
    ],
)
def test_erp_credit_notes_that_do_not_fit_are_refused(
    policy: domain.InvoicingPolicy,
    note_totals: DocumentTotals,
    lines: tuple[tuple[int, str], ...],
    code: str,
) -> None:
    desk, _ = erp_invoiced()
    desk.policy = policy
    note = s.register_external_credit("D1", "ERP-1", "ERP-CN-1", note_totals, lines=lines)
    rejected = only(desk.send(note), "invoice.rejected")
    assert (rejected.reason_code, rejected.command_type) == (
        code,
        "invoice.register_external_credit",
    )
    assert not desk.book.new_notes


def test_an_erp_credit_note_for_an_unknown_invoice_or_in_another_currency_is_refused() -> None:
    desk, _ = erp_invoiced()
    unknown = s.register_external_credit("D1", "ERP-404", "ERP-CN-1", FOUR_OF_LINE_1)
    assert refused(desk.send(unknown)) == "unknown_invoice"
    yen = s.register_external_credit(
        "D1", "ERP-1", "ERP-CN-2", FOUR_OF_LINE_1, lines=((1, "4"),), currency="JPY"
    )
    assert refused(desk.send(yen)) == "currency_mismatch"


def test_an_erp_invoice_credited_in_full_may_be_billed_again_corrected() -> None:
    # The ERP's usual correction: a credit note for the wrong invoice, then the right one.
    desk = Desk(policy=EXTERNAL)
    confirmed = s.order_confirmed("D1")
    desk.send(confirmed)
    order_id = confirmed.payload.order_id
    first = only(desk.send(s.register_external("D1", order_id, "ERP-1")), "invoice.posted")
    totals = s.totals_of(s.priced_lines())
    desk.send(
        s.register_external_credit("D1", "ERP-1", "ERP-CN-1", totals, lines=((1, "10"), (2, "3")))
    )
    again = only(desk.send(s.register_external("D1", order_id, "ERP-2")), "invoice.posted")
    assert again.totals == first.totals
    assert again.invoice_id != first.invoice_id
