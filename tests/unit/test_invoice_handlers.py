"""invoice_svc's handler plumbing against an in-memory InvoiceBook: what a batch locks, what the
book records for the adapter to write, settings, row codecs. No I/O."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.documents import InvoicingPolicy
from services.invoice_svc import domain
from services.invoice_svc.handlers import HANDLERS, touches_of
from services.invoice_svc.settings import InvoiceSettings
from services.invoice_svc.store import InvoiceBook, lines_from_json, lines_to_json
from services.invoice_svc.wire import order_of
from tests.support import invoices as s
from tests.support.invoice_driver import (
    EXTERNAL,
    NATIVE,
    NOW,
    Desk,
    handle,
    incoming,
    on,
    only,
    sum_of,
)

D = Decimal


def test_every_message_invoice_svc_consumes_has_a_handler() -> None:
    assert set(HANDLERS) == {
        "clock.ticked",
        "order.confirmed",
        "order.fulfilled",
        "order.cancelled",
        "order.acknowledged",
        "order.resubmitted",
        "invoice.register_external",
        "invoice.record_payment",
        "invoice.cancel",
        "invoice.credit",
        "invoice.register_external_credit",
        "invoice.record_refund",
        "invoice.apply_credit",
    }


def test_the_counters_must_have_been_loaded_by_the_batch() -> None:
    with pytest.raises(LookupError):
        handle(InvoiceBook(), s.order_confirmed("D1"))
    book = InvoiceBook(counters={2026: domain.InvoiceCounter(2026, 0)})
    posted = on(handle(book, s.order_confirmed("D1")), "invoice.posted")[0]
    with pytest.raises(LookupError):
        handle(book, s.cancel_invoice("D1", posted.invoice_id))


def test_only_batches_that_may_number_a_native_document_take_the_counter_locks() -> None:
    order = s.order_confirmed("D1")
    pay = s.record_payment("D1", "1", invoice_id=uuid4(), external_invoice_id="ERP-1")
    batch = [incoming(order), incoming(pay)]
    touches = touches_of(batch, NATIVE, NOW)
    assert touches.counter_year == 2026
    assert touches.order_ids == {order.payload.order_id}
    assert touches.payment_ids == {pay.payload.payment_id}
    assert touches.external_ids == {"ERP-1"}
    assert touches_of(batch, EXTERNAL, NOW).counter_year is None
    assert touches_of(batch, EXTERNAL, NOW).credit_counter_year is None
    alone = touches_of([incoming(pay)], NATIVE, NOW)
    assert (alone.counter_year, alone.credit_counter_year) == (None, None)
    cancel = touches_of([incoming(s.cancel_invoice("D1", uuid4()))], NATIVE, NOW)
    assert (cancel.counter_year, cancel.credit_counter_year) == (None, 2026)
    credit = touches_of([incoming(s.credit_invoice("D1", uuid4()))], NATIVE, NOW)
    assert credit.credit_counter_year == 2026


def test_account_commands_name_the_account_and_their_ids() -> None:
    account = uuid4()
    refund = s.record_refund(account, "1", refund_id="RF-1")
    invoice_id = uuid4()
    apply = s.apply_credit(account, invoice_id, "1", application_id="AP-1", currency="JPY")
    touches = touches_of([incoming(refund), incoming(apply)], NATIVE, NOW)
    assert touches.accounts == {(account, "EUR"), (account, "JPY")}
    assert (touches.refund_ids, touches.application_ids) == (
        frozenset({"RF-1"}),
        frozenset({"AP-1"}),
    )
    assert touches.invoice_ids == {invoice_id}


def test_the_book_keeps_what_a_batch_changed_for_the_adapter() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1")
    posted = only(desk.send(confirmed), "invoice.posted")
    desk.send(s.record_payment("D1", "333.10", invoice_id=posted.invoice_id, payment_id="P-1"))
    desk.send(s.cancel_invoice("D1", posted.invoice_id))
    desk.send(s.record_refund(confirmed.payload.account_id, "33.10", refund_id="RF-1"))
    book = desk.book
    assert book.new_invoice_ids == {posted.invoice_id}
    assert set(book.changed_invoices) == {posted.invoice_id}
    assert [p.payment_id for _, p in book.new_payments] == ["P-1"]
    assert [n.credit_note_number for n in book.new_notes] == ["CN-2026-000001"]
    assert [r.refund_id for r in book.new_refunds] == ["RF-1"]
    assert book.changed_credits == {(confirmed.payload.account_id, "EUR")}
    assert book.changed_counters == {2026: domain.InvoiceCounter(2026, 1)}
    assert book.changed_credit_counters == {2026: domain.InvoiceCounter(2026, 1)}
    kinds = [e.kind.value for e in book.new_entries]
    assert kinds == ["invoice", "payment", "credit_note", "to_credit", "to_credit", "refund"]
    assert sum_of(e.amount for e in book.new_entries) == D("-300.00")
    on_credit = [e for e in book.new_entries if e.invoice_id is None]
    assert -sum_of(e.amount for e in on_credit) == desk.credit(confirmed.payload.account_id)


def test_a_refusal_changes_nothing_in_the_book() -> None:
    desk = Desk()
    posted = only(desk.send(s.order_confirmed("D1")), "invoice.posted")
    before = (list(desk.book.new_entries), dict(desk.book.invoices), dict(desk.book.credits))
    desk.send(s.record_payment("D1", "999", invoice_id=posted.invoice_id))
    desk.send(s.credit_invoice("D1", posted.invoice_id, amount="999"))
    after = (list(desk.book.new_entries), dict(desk.book.invoices), dict(desk.book.credits))
    assert before == after
    assert desk.book.credit_counters[2026].last == 0


def test_events_are_keyed_by_the_deal_of_the_invoice_they_are_about() -> None:
    desk = Desk()
    confirmed = s.order_confirmed("D1", policy=InvoicingPolicy.ON_DELIVERY)
    desk.send(confirmed)
    shipment = s.order_fulfilled("D1", confirmed.payload.order_id, "S1", {1: ("10", "1")})
    events = desk.send(shipment)
    assert [(e.deal_id, e.causation_id, e.producer) for _, e in events] == [
        ("D1", shipment.event_id, "invoice_svc")
    ]


def test_settings_choose_mode_prefixes_policy_and_overpayments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert InvoiceSettings().policy() == domain.InvoicingPolicy()
    monkeypatch.setenv("SALESFLOW_INVOICE_MODE", "external")
    monkeypatch.setenv("SALESFLOW_INVOICE_NUMBER_PREFIX", "ACME")
    monkeypatch.setenv("SALESFLOW_INVOICE_CREDIT_NOTE_PREFIX", "ACN")
    monkeypatch.setenv("SALESFLOW_INVOICE_BILLING", "down_payment")
    monkeypatch.setenv("SALESFLOW_INVOICE_DOWN_PAYMENT_RATE", "0.25")
    monkeypatch.setenv("SALESFLOW_INVOICE_ACCEPT_OVERPAYMENTS", "true")
    assert InvoiceSettings().policy() == domain.InvoicingPolicy(
        mode=domain.InvoicingMode.EXTERNAL,
        number_prefix="ACME",
        credit_note_prefix="ACN",
        billing=domain.BillingPolicy.DOWN_PAYMENT,
        down_payment_rate=D("0.25"),
        accept_overpayments=True,
    )
    monkeypatch.setenv("SALESFLOW_INVOICE_NUMBER_PREFIX", "no spaces")
    with pytest.raises(ValidationError):
        InvoiceSettings()


def test_the_deployment_policy_bills_orders_that_name_none() -> None:
    desk = Desk(policy=domain.InvoicingPolicy(billing=domain.BillingPolicy.ON_DELIVERY))
    assert desk.send(s.order_confirmed("D1")) == []
    named = s.order_confirmed("D2", policy=InvoicingPolicy.ON_ORDER)
    assert only(desk.send(named), "invoice.posted").totals == named.payload.totals


def test_lines_survive_the_round_trip_through_jsonb() -> None:
    order = order_of(s.order_confirmed("D1").payload, "D1")
    assert lines_from_json(lines_to_json(order.lines)) == order.lines
    write_in = replace(order.lines[1])
    assert write_in.sku is None and write_in.write_in
