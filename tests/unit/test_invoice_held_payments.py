"""Payments read by invoice_svc before what they name (review of issue 11, finding 1): the ERP
acknowledges an order (order.commands, then order_svc, then order.acknowledged), then sends its
invoice and the payment on invoice.commands; the acknowledgement takes two hops, so invoice_svc
often reads the payment first. It is held, never refused for good, and settled in the
transaction that makes its order or invoice known. Handlers against an in-memory InvoiceBook."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from contracts.documents import DocumentTotals, InvoicingPolicy
from contracts.envelope import Envelope
from contracts.orders import OrderConfirmed
from services.invoice_svc import domain
from services.invoice_svc.handlers import touches_of
from tests.support import invoices as s
from tests.support.invoice_driver import EXTERNAL, NOW, Desk, incoming, on, only, topics

D = Decimal


def erp_desk() -> tuple[Desk, Envelope[OrderConfirmed]]:
    """External billing; the order is known here, its acknowledgement not yet."""
    desk = Desk(policy=EXTERNAL)
    order = s.order_confirmed("D1")
    assert desk.send(order) == []
    return desk, order


def total(order: Envelope[OrderConfirmed]) -> str:
    return str(order.payload.totals.grand_total)


def test_register_pay_then_acknowledge_posts_the_invoice_and_pays_it() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    assert desk.send(s.register_external("D1", None, "ERP-1", erp_order_number="4711")) == []
    payment = s.record_payment("D1", total(order), erp_order_number="4711", payment_id="P-1")
    assert desk.send(payment) == []
    assert list(desk.book.held_payments) == ["P-1"]
    events = desk.send(s.order_acknowledged("D1", order_id, "4711"))
    assert topics(events) == ["invoice.posted", "invoice.paid"]
    posted, paid = on(events, "invoice.posted")[0], on(events, "invoice.paid")[0]
    assert (paid.invoice_id, paid.payment_id, paid.balance_due) == (
        posted.invoice_id,
        "P-1",
        D("0.00"),
    )
    assert not desk.book.held_payments
    assert desk.book.new_held_payments == {}  # held and settled in one book: no row at all
    assert desk.outstanding(order.payload.account_id) == 0


def test_a_payment_by_salesflows_number_waits_for_the_erp_invoice_held_behind_the_ack() -> None:
    desk, order = erp_desk()
    order_id = order.payload.order_id
    desk.send(s.register_external("D1", None, "ERP-1", erp_order_number="4711"))
    number = s.order_number_of(order_id)
    payment = s.record_payment("D1", total(order), order_number=number, payment_id="P-1")
    assert desk.send(payment) == []  # the order is known, but has no invoice yet
    events = desk.send(s.order_acknowledged("D1", order_id, "4711"))
    assert topics(events) == ["invoice.posted", "invoice.paid"]


def test_a_payment_naming_a_held_erp_invoice_is_settled_when_it_posts() -> None:
    desk, order = erp_desk()
    desk.send(s.register_external("D1", None, "ERP-1", erp_order_number="4711"))
    payment = s.record_payment("D1", total(order), external_invoice_id="ERP-1")
    assert desk.send(payment) == []
    events = desk.send(s.order_acknowledged("D1", order.payload.order_id, "4711"))
    assert topics(events) == ["invoice.posted", "invoice.paid"]
    assert only(events[1:], "invoice.paid").payment_id == payment.payload.payment_id


def test_a_payment_read_before_its_order_pays_the_invoice_the_order_posts() -> None:
    """Native billing: invoice.commands is read before order.confirmed."""
    desk = Desk()
    order = s.order_confirmed("D1")
    number = s.order_number_of(order.payload.order_id)
    assert desk.send(s.record_payment("D1", "100.00", order_number=number)) == []
    events = desk.send(order)
    assert topics(events) == ["invoice.posted", "invoice.paid"]
    assert on(events, "invoice.paid")[0].amount == D("100.00")


def test_a_held_payment_sent_again_is_held_once_and_recorded_once() -> None:
    desk, order = erp_desk()
    payment = s.record_payment("D1", total(order), erp_order_number="4711", payment_id="P-1")
    retry = payment.model_copy(update={"event_id": uuid4()})
    assert desk.send(payment) == []
    assert desk.send(retry) == []
    assert list(desk.book.new_held_payments) == ["P-1"]
    desk.send(s.register_external("D1", order.payload.order_id, "ERP-1"))
    events = desk.send(s.order_acknowledged("D1", order.payload.order_id, "4711"))
    assert topics(events) == ["invoice.paid"]
    assert desk.send(retry.model_copy(update={"event_id": uuid4()})) == []


def test_a_held_payment_whose_erp_invoice_is_refused_is_refused_with_it() -> None:
    """It answers the payment's own command (its event id), when the invoice is decided."""
    desk, order = erp_desk()
    wrong = DocumentTotals(
        subtotal=D("1.00"),
        discount_total=D("0.00"),
        net_total=D("1.00"),
        tax_total=D("0.00"),
        grand_total=D("1.00"),
    )
    desk.send(s.register_external("D1", None, "ERP-1", erp_order_number="4711", totals=wrong))
    payment = s.record_payment("D1", "1.00", external_invoice_id="ERP-1")
    assert desk.send(payment) == []
    events = desk.send(s.order_acknowledged("D1", order.payload.order_id, "4711"))
    claim, paid = on(events, "invoice.rejected")
    assert (claim.reason_code, claim.subject_id) == ("totals_mismatch", "ERP-1")
    assert (paid.reason_code, paid.command_type) == ("unknown_invoice", "invoice.record_payment")
    assert paid.command_event_id == payment.event_id
    assert not desk.book.held_payments


def test_a_held_payment_of_an_order_cancelled_before_any_invoice_is_refused_then() -> None:
    desk, order = erp_desk()
    number = s.order_number_of(order.payload.order_id)
    payment = s.record_payment("D1", total(order), order_number=number)
    assert desk.send(payment) == []
    events = desk.send(s.order_cancelled("D1", order.payload.order_id))
    assert only(events, "invoice.rejected").reason_code == "no_invoice"
    assert not desk.book.held_payments


def test_a_payment_for_an_order_billed_on_delivery_before_it_ships_is_refused_as_before() -> None:
    """Native billing makes an order's invoices here: none known means none (not held)."""
    desk = Desk()
    order = s.order_confirmed("D1", policy=InvoicingPolicy.ON_DELIVERY)
    desk.send(order)
    number = s.order_number_of(order.payload.order_id)
    events = desk.send(s.record_payment("D1", "10.00", order_number=number))
    assert only(events, "invoice.rejected").reason_code == "no_invoice"
    assert not desk.book.held_payments


def test_a_payment_naming_an_erp_invoice_never_registered_is_refused_at_once() -> None:
    """The ERP registers its invoice before paying it, on the same partition: an id neither
    posted nor held is not on its way."""
    desk, _ = erp_desk()
    events = desk.send(s.record_payment("D1", "1.00", external_invoice_id="ERP-nope"))
    assert only(events, "invoice.rejected").reason_code == "unknown_invoice"


def test_what_a_held_payment_waits_for() -> None:
    desk, order = erp_desk()
    known = desk.order(order.payload.order_id)
    awaited = domain.order_awaited
    mode = domain.InvoicingMode
    assert awaited(None, (), order_ref="4711", deal_id="D1", mode=mode.NATIVE) == "order 4711"
    assert awaited(known, (), order_ref="x", deal_id="D1", mode=mode.EXTERNAL) == (
        f"an invoice of order {known.order_number}"
    )
    assert awaited(known, (), order_ref="x", deal_id="D1", mode=mode.NATIVE) is None
    assert awaited(known, (), order_ref="x", deal_id="D9", mode=mode.EXTERNAL) is None
    held = frozenset({"ERP-1"})
    assert domain.invoices_awaited([(None, "ERP-1"), (None, None)], held) == (
        "ERP invoices ['ERP-1']"
    )
    assert domain.invoices_awaited([(None, "ERP-2")], held) is None


def test_a_batch_settling_an_order_touches_the_payments_held_for_it() -> None:
    batch = [incoming(s.record_payment("D1", "1.00", erp_order_number="4711", payment_id="P-1"))]
    touches = touches_of(batch, EXTERNAL, NOW)
    assert touches.payment_ids == {"P-1"}
    assert touches.erp_order_numbers == {"4711"}
