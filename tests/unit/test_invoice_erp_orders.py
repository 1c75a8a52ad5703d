"""invoice_svc and orders as the ERP names them: customer details and PO on every invoice, the
ERP's order number (order.acknowledged, also read ahead of its order), ERP invoices naming their
order by salesflow's number or the ERP's (held until it is known), and payments naming an order
instead of its invoices. Handlers against an in-memory InvoiceBook, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts import money
from contracts.documents import DocumentTotals, InvoicingPolicy
from contracts.envelope import Envelope, make_envelope
from contracts.orders import OrderConfirmed, OrderResubmitted
from services.invoice_svc import domain
from services.invoice_svc.handlers import touches_of
from services.invoice_svc.store.parties import details_from_json, details_to_json
from services.invoice_svc.wire import customer_details_of
from tests.support import invoices as s
from tests.support.invoice_driver import (
    EXTERNAL,
    NATIVE,
    NOW,
    Desk,
    incoming,
    on,
    only,
    refused,
    topics,
)
from tests.support.parties import address, customer_details

D = Decimal
ACCOUNT = UUID("8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f")


def confirmed(deal: str = "D1", policy: InvoicingPolicy | None = None) -> Envelope[OrderConfirmed]:
    return s.order_confirmed(
        deal, customer_details=customer_details(ACCOUNT), customer_po="PO 4711/2026", policy=policy
    )


def erp_desk() -> tuple[Desk, Envelope[OrderConfirmed]]:
    desk = Desk(policy=EXTERNAL)
    order = confirmed()
    assert desk.send(order) == []
    return desk, order


# --- customer details and PO on the invoice -----------------------------------------------


def test_an_invoice_carries_the_orders_customer_details_and_po() -> None:
    desk = Desk()
    order = confirmed()
    posted = only(desk.send(order), "invoice.posted")
    assert posted.customer_details == order.payload.customer_details
    assert posted.customer_details.ship_to == address()
    assert posted.customer_po == "PO 4711/2026"
    kept = desk.order(order.payload.order_id)
    assert kept.customer_po == "PO 4711/2026"
    assert kept.customer_details is not None and kept.customer_details.sold_to == (
        "Analytical Engines Ltd"
    )


def test_an_erp_invoice_carries_them_too_and_an_order_without_them_posts_none() -> None:
    desk, order = erp_desk()
    register = s.register_external("D1", order.payload.order_id, "ERP-1")
    posted = only(desk.send(register), "invoice.posted")
    assert (posted.customer_details, posted.customer_po) == (
        order.payload.customer_details,
        "PO 4711/2026",
    )
    bare = only(Desk().send(s.order_confirmed("D2")), "invoice.posted")
    assert (bare.customer_details, bare.customer_po) == (None, None)


# --- the ERP's order number ----------------------------------------------------------------


def test_an_acknowledgement_records_the_erp_number_on_the_order_once() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    assert desk.send(s.order_acknowledged("D1", order_id, "4711")) == []
    assert desk.order(order_id).erp_order_number == "4711"
    desk.book.changed_orders.clear()
    assert desk.send(s.order_acknowledged("D1", order_id, "4711")) == []
    assert not desk.book.changed_orders  # nothing new to write


def test_an_acknowledgement_read_ahead_of_its_order_is_given_to_it_when_it_arrives() -> None:
    order = confirmed()
    order_id = order.payload.order_id
    first = Desk(policy=EXTERNAL)
    assert first.send(s.order_acknowledged("D1", order_id, "4711")) == []
    assert first.book.new_acknowledged_ahead == {order_id}
    # A later batch loads it from the table.
    desk = Desk(policy=EXTERNAL)
    desk.book.acknowledged_ahead[order_id] = first.book.acknowledged_ahead[order_id]
    desk.send(order)
    assert desk.order(order_id).erp_order_number == "4711"
    assert desk.book.applied_acknowledged_ahead == {order_id}
    assert not desk.book.acknowledged_ahead


# --- ERP invoices naming their order by number -----------------------------------------------


def test_an_erp_invoice_may_name_its_order_by_salesflows_number_or_the_erps() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    desk.send(s.order_acknowledged("D1", order_id, "4711"))
    half = (1, "5")
    by_number = s.register_external(
        "D1",
        None,
        "ERP-1",
        order_number=s.order_number_of(order_id),
        lines=(half,),
        totals=_totals_of(desk, order, {1: "5"}),
    )
    first = only(desk.send(by_number), "invoice.posted")
    by_erp = s.register_external(
        "D1", None, "ERP-2", erp_order_number="4711", lines=(half,), totals=first.totals
    )
    second = only(desk.send(by_erp), "invoice.posted")
    assert (first.order_id, second.order_id) == (order_id, order_id)


def test_an_erp_invoice_naming_the_erps_number_is_held_until_the_acknowledgement() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    register = s.register_external("D1", None, "ERP-1", erp_order_number="4711")
    assert desk.send(register) == []
    assert desk.book.held["ERP-1"].erp_order_number == "4711"
    posted = only(desk.send(s.order_acknowledged("D1", order_id, "4711")), "invoice.posted")
    assert (posted.external_invoice_id, posted.order_id) == ("ERP-1", order_id)
    assert not desk.book.held


def test_an_erp_invoice_naming_an_unknown_order_number_is_held_until_the_order() -> None:
    order = confirmed()
    desk = Desk(policy=EXTERNAL)
    number = s.order_number_of(order.payload.order_id)
    assert desk.send(s.register_external("D1", None, "ERP-1", order_number=number)) == []
    assert desk.book.held["ERP-1"].order_id is None
    posted = only(desk.send(order), "invoice.posted")
    assert posted.external_invoice_id == "ERP-1"


def test_held_under_the_erps_number_it_waits_for_an_acknowledgement_read_ahead() -> None:
    order = confirmed()
    order_id = order.payload.order_id
    desk = Desk(policy=EXTERNAL)
    desk.send(s.register_external("D1", None, "ERP-1", erp_order_number="4711"))
    desk.send(s.order_acknowledged("D1", order_id, "4711"))
    assert list(desk.book.held) == ["ERP-1"]
    posted = only(desk.send(order), "invoice.posted")
    assert posted.external_invoice_id == "ERP-1"


def test_names_that_find_two_orders_are_refused() -> None:
    desk, order = erp_desk()
    other = confirmed("D2")
    desk.send(other)
    desk.send(s.order_acknowledged("D2", other.payload.order_id, "4711"))
    register = s.register_external("D1", order.payload.order_id, "ERP-1", erp_order_number="4711")
    rejected = only(desk.send(register), "invoice.rejected")
    assert (rejected.reason_code, rejected.subject_id) == ("order_mismatch", "ERP-1")
    # In native mode the mode is what is wrong.
    assert refused(Desk(policy=NATIVE, book=desk.book).send(register)) == "wrong_mode"


def test_a_claim_names_an_order_by_any_of_its_names() -> None:
    desk, order = erp_desk()
    desk.send(s.order_acknowledged("D1", order.payload.order_id, "4711"))
    known = desk.order(order.payload.order_id)
    claim = domain.ExternalClaim(
        external_invoice_id="ERP-1",
        invoice_number="E-1",
        order_id=None,
        deal_id="D1",
        currency="EUR",
        totals=known.totals,
        issue_date=NOW.date(),
        due_date=NOW.date(),
        command_event_id=uuid4(),
        received_at=NOW,
    )
    assert not claim.names(known)
    assert replace(claim, erp_order_number="4711").names(known)
    assert replace(claim, order_id=known.order_id).names(known)
    assert replace(claim, order_number=known.order_number).names(known)
    assert not replace(claim, order_number="SO-x", erp_order_number="4712").names(known)


# --- payments naming an order ---------------------------------------------------------------


def shipped_twice() -> tuple[Desk, UUID, list[D]]:
    """An order billed on delivery in two invoices, a day apart: line 2 first, then line 1."""
    desk = Desk()
    order = confirmed(policy=InvoicingPolicy.ON_DELIVERY)
    order_id = order.payload.order_id
    desk.send(order)
    first = only(
        desk.send(s.order_fulfilled("D1", order_id, "S1", {2: ("3", "3")})), "invoice.posted"
    )
    second = only(
        desk.send(
            s.order_fulfilled("D1", order_id, "S2", {1: ("10", "10"), 2: ("3", "3")}),
            NOW + timedelta(days=1),
        ),
        "invoice.posted",
    )
    assert first.due_date < second.due_date
    return desk, order_id, [first.totals.grand_total, second.totals.grand_total]


def test_a_payment_naming_an_order_pays_its_oldest_due_invoice_first() -> None:
    desk, order_id, (oldest, newest) = shipped_twice()
    number = s.order_number_of(order_id)
    events = desk.send(s.record_payment("D1", str(oldest + D("10.00")), order_number=number))
    paid = on(events, "invoice.paid")
    assert [(p.amount, p.balance_due) for p in paid] == [
        (oldest, D("0.00")),
        (D("10.00"), newest - D("10.00")),
    ]
    rest = only(
        desk.send(s.record_payment("D1", str(newest - D("10.00")), order_number=number)),
        "invoice.paid",
    )
    assert rest.balance_due == 0


def test_a_payment_naming_the_erps_order_number_pays_the_same_way() -> None:
    desk, order_id, (oldest, _) = shipped_twice()
    desk.send(s.order_acknowledged("D1", order_id, "4711"))
    paid = only(
        desk.send(s.record_payment("D1", str(oldest), erp_order_number="4711")), "invoice.paid"
    )
    assert (paid.amount, paid.balance_due) == (oldest, D("0.00"))


def test_money_beyond_an_orders_invoices_follows_the_overpayment_rules() -> None:
    desk, order_id, (oldest, newest) = shipped_twice()
    number = s.order_number_of(order_id)
    too_much = str(oldest + newest + D("5.00"))
    assert refused(desk.send(s.record_payment("D1", too_much, order_number=number))) == (
        "overpayment"
    )
    desk.policy = domain.InvoicingPolicy(accept_overpayments=True)
    events = desk.send(s.record_payment("D1", too_much, order_number=number))
    assert topics(events) == ["invoice.paid", "invoice.paid", "refund.due"]
    assert on(events, "refund.due")[0].amount == D("5.00")
    account = desk.order(order_id).account_id
    assert desk.credit(account) == D("5.00")
    # Everything paid: more money for the order goes to its newest invoice, and to credit.
    events = desk.send(s.record_payment("D1", "1.00", order_number=number))
    assert topics(events) == ["invoice.paid", "refund.due"]


def test_a_payment_naming_an_order_again_is_a_no_op() -> None:
    desk, order_id, (oldest, _) = shipped_twice()
    payment = s.record_payment("D1", str(oldest), order_number=s.order_number_of(order_id))
    assert topics(desk.send(payment)) == ["invoice.paid"]
    assert desk.send(payment.model_copy(update={"event_id": uuid4()})) == []


def test_a_down_payment_invoice_is_left_to_payments_that_name_it() -> None:
    desk = Desk()
    order = confirmed(policy=InvoicingPolicy.DOWN_PAYMENT)
    only(desk.send(order), "invoice.posted")
    number = s.order_number_of(order.payload.order_id)
    assert refused(desk.send(s.record_payment("D1", "10.00", order_number=number))) == (
        "no_invoice"
    )


def test_a_payment_naming_another_deals_order_is_refused() -> None:
    desk, order_id, _ = shipped_twice()
    payment = s.record_payment("D9", "10.00", order_number=s.order_number_of(order_id))
    assert refused(desk.send(payment)) == "deal_mismatch"


@pytest.mark.parametrize(
    ("order_number", "erp_order_number"), [("SO-unknown", None), (None, "9999")]
)
def test_a_payment_naming_an_order_not_known_here_is_held_not_refused(
    order_number: str | None, erp_order_number: str | None
) -> None:
    """The order (or its acknowledgement) may still be on its way on another topic: refusing
    would lose the payment for good (test_invoice_held_payments settles them)."""
    desk, _, _ = shipped_twice()
    payment = s.record_payment(
        "D1", "10.00", order_number=order_number, erp_order_number=erp_order_number
    )
    assert desk.send(payment) == []
    assert list(desk.book.held_payments) == [payment.payload.payment_id]


def test_a_payment_naming_two_different_orders_is_refused() -> None:
    desk, order_id, _ = shipped_twice()
    other = confirmed("D2")
    desk.send(other)
    desk.send(s.order_acknowledged("D2", other.payload.order_id, "4711"))
    payment = s.record_payment(
        "D1", "10.00", order_number=s.order_number_of(order_id), erp_order_number="4711"
    )
    assert refused(desk.send(payment)) == "order_mismatch"


# --- batches and rows ----------------------------------------------------------------------


def test_a_batch_touches_the_orders_its_messages_name_by_number() -> None:
    order_id = uuid4()
    batch = [
        incoming(s.order_acknowledged("D1", order_id, "4711")),
        incoming(s.register_external("D1", None, "ERP-1", order_number="SO-1")),
        incoming(s.record_payment("D1", "1.00", erp_order_number="4712")),
        incoming(s.order_confirmed("D2")),
    ]
    touches = touches_of(batch, NATIVE, NOW)
    assert order_id in touches.order_ids
    assert {"SO-1", s.order_number_of(order_id)} <= touches.order_numbers
    assert touches.erp_order_numbers == {"4711", "4712"}


def test_customer_details_survive_their_row_form() -> None:
    details = customer_details_of(
        customer_details(ACCOUNT, ship_to=address("2 B St", "Paris", "FR"))
    )
    assert details is not None
    assert details_from_json(details_to_json(details)) == details
    assert details_to_json(None) is None


def _totals_of(
    desk: Desk, order: Envelope[OrderConfirmed], quantities: dict[int, str]
) -> DocumentTotals:
    """The totals a first invoice billing `quantities` of the order's lines comes to."""
    known = desk.order(order.payload.order_id)
    pieces = [
        money.piece_of_line(
            line.amounts(known.currency),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            part=D(quantities[line.line_no]),
            taken=money.zero_amounts(known.currency),
            taken_quantity=D(0),
        )
        for line in known.lines
        if line.line_no in quantities
    ]
    return DocumentTotals.from_money(money.sum_totals(pieces, known.currency))


# --- a refused order corrected and resubmitted ------------------------------------------------


def _resubmitted(order: Envelope[OrderConfirmed], **changes: object) -> Envelope[Any]:
    payload = OrderResubmitted(**{**order.payload.model_dump(), **changes})
    return make_envelope(
        payload,
        event_type="order.resubmitted",
        deal_id=order.deal_id,
        producer="order_svc",
        occurred_at=NOW,
    )


def test_invoices_after_a_resubmission_go_where_the_correction_says() -> None:
    desk, order = erp_desk()
    details = order.payload.customer_details
    assert details is not None
    elsewhere = details.model_copy(update={"ship_to": address(city="Leeds")})
    assert desk.send(_resubmitted(order, customer_details=elsewhere, customer_po="PO-2")) == []
    kept = desk.order(order.payload.order_id)
    assert kept.customer_po == "PO-2"
    assert kept.customer_details == customer_details_of(elsewhere)
    assert desk.send(_resubmitted(order, customer_details=elsewhere, customer_po="PO-2")) == []


def test_a_resubmission_read_before_its_order_confirms_it() -> None:
    desk = Desk()
    order = confirmed("D9")
    posted = only(desk.send(_resubmitted(order, customer_po="PO-9")), "invoice.posted")
    assert posted.customer_po == "PO-9"
    assert desk.send(order) == []  # the confirmation read after it: the first one won
