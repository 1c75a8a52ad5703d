"""invoice_svc handlers against an in-memory InvoiceBook: state and recorded events, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.envelope import Envelope, decode
from contracts.topics import topic_for_event
from services.invoice_svc.domain import (
    InvoiceCounter,
    InvoiceState,
    InvoicingMode,
    InvoicingPolicy,
    invoice_id_for,
)
from services.invoice_svc.handlers import HANDLERS, touches_of
from services.invoice_svc.settings import InvoiceSettings
from services.invoice_svc.store import InvoiceBook, lines_from_json, lines_to_json
from services.invoice_svc.wire import order_of
from shared.messages import Incoming, Outgoing
from tests.support.invoices import (
    cancel_invoice,
    order_cancelled,
    order_confirmed,
    priced_lines,
    record_payment,
    register_external,
    totals_of,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NATIVE = InvoicingPolicy(InvoicingMode.NATIVE, "INV")
EXTERNAL = InvoicingPolicy(InvoicingMode.EXTERNAL, "INV")


def native_book(last: int = 0) -> InvoiceBook:
    return InvoiceBook(counters={2026: InvoiceCounter(2026, last)})


def incoming(envelope: Envelope[Any]) -> Incoming[Any]:
    return Incoming(envelope, topic_for_event(envelope.event_type).name, 0, 0)


def handle(
    book: InvoiceBook, envelope: Envelope[Any], policy: InvoicingPolicy = NATIVE
) -> list[tuple[str, Envelope[Any]]]:
    out: list[Outgoing] = HANDLERS[envelope.event_type](book, incoming(envelope), policy, NOW)
    return [(o.topic, decode(o.payload or b"")) for o in out]


def only(events: list[tuple[str, Envelope[Any]]], topic: str) -> Any:
    assert [t for t, _ in events] == [topic], events
    return events[0][1].payload


# --- native --------------------------------------------------------------------------------


def test_a_confirmed_order_is_recorded_and_invoiced_once_with_consecutive_numbers() -> None:
    book = native_book(last=7)
    first = order_confirmed("D1")
    events = handle(book, first)
    posted = only(events, "invoice.posted")
    envelope = events[0][1]
    assert (envelope.deal_id, envelope.causation_id, envelope.producer) == (
        "D1",
        first.event_id,
        "invoice_svc",
    )
    assert posted.invoice_number == "INV-2026-000008"
    assert posted.source.value == "native"
    assert posted.totals == first.payload.totals
    assert posted.lines == first.payload.lines
    assert posted.invoice_id == invoice_id_for(first.payload.order_id)
    assert posted.order_number == first.payload.order_number
    assert str(posted.due_date) == "2026-12-27"
    assert first.payload.order_id in book.changed_orders
    second = only(handle(book, order_confirmed("D2")), "invoice.posted")
    assert second.invoice_number == "INV-2026-000009"
    assert book.changed_counters == {2026: InvoiceCounter(2026, 9)}


def test_the_same_order_confirmed_again_under_a_new_event_id_posts_nothing() -> None:
    book = native_book()
    order = order_confirmed("D1")
    handle(book, order)
    again = order.model_copy(update={"event_id": uuid4()})
    assert handle(book, again) == []
    assert len(book.new_invoice_ids) == 1
    assert book.counter(2026).last == 1


def test_an_order_whose_totals_are_not_its_lines_is_refused_and_burns_no_number() -> None:
    lines = priced_lines()
    wrong = totals_of(lines).model_copy(update={"grand_total": Decimal("1.00")})
    book = native_book()
    refused = only(handle(book, order_confirmed("D1", totals=wrong)), "invoice.rejected")
    assert (refused.reason_code, refused.command_type) == ("totals_mismatch", "order.confirmed")
    assert "difference" in refused.detail
    assert book.counter(2026).last == 0 and not book.new_invoice_ids


def test_the_counter_must_have_been_loaded() -> None:
    with pytest.raises(LookupError):
        handle(InvoiceBook(), order_confirmed("D1"))


def test_an_erp_invoice_in_native_mode_is_refused() -> None:
    book = native_book()
    order = order_confirmed("D1")
    refused = only(
        handle(book, register_external("D1", order.payload.order_id, "ERP-1")),
        "invoice.rejected",
    )
    assert refused.reason_code == "wrong_mode"


# --- external ------------------------------------------------------------------------------


def test_in_external_mode_a_confirmed_order_is_only_recorded() -> None:
    book = InvoiceBook()
    order = order_confirmed("D1")
    assert handle(book, order, EXTERNAL) == []
    assert list(book.changed_orders) == [order.payload.order_id]


def test_an_erp_invoice_ahead_of_its_order_is_held_then_posted_when_the_order_arrives() -> None:
    order = order_confirmed("D1")
    register = register_external("D1", order.payload.order_id, "ERP-1")
    first_batch = InvoiceBook()
    assert handle(first_batch, register, EXTERNAL) == []
    claim = first_batch.new_held["ERP-1"]
    # A later batch: the held claim is loaded from the table.
    book = InvoiceBook(held={"ERP-1": claim})
    posted = only(handle(book, order, EXTERNAL), "invoice.posted")
    assert posted.source.value == "external"
    assert (posted.external_invoice_id, posted.invoice_number) == ("ERP-1", "ERP-ERP-1")
    assert posted.lines == order.payload.lines
    assert book.released == {"ERP-1"} and not book.held
    # The same ERP invoice registered again is a silent no-op.
    assert handle(book, register.model_copy(update={"event_id": uuid4()}), EXTERNAL) == []


def test_held_and_released_in_one_batch_never_reaches_the_table() -> None:
    order = order_confirmed("D1")
    book = InvoiceBook()
    handle(book, register_external("D1", order.payload.order_id, "ERP-1"), EXTERNAL)
    only(handle(book, order, EXTERNAL), "invoice.posted")
    assert not book.new_held and not book.released


def test_a_held_erp_invoice_that_does_not_match_is_refused_as_the_command_it_was() -> None:
    order = order_confirmed("D1")
    off = totals_of(priced_lines()).model_copy(update={"grand_total": Decimal("333.00")})
    register = register_external("D1", order.payload.order_id, "ERP-1", totals=off)
    book = InvoiceBook()
    handle(book, register, EXTERNAL)
    refused = only(handle(book, order, EXTERNAL), "invoice.rejected")
    assert refused.reason_code == "totals_mismatch"
    assert refused.command_type == "invoice.register_external"
    assert refused.command_event_id == register.event_id
    assert "grand_total 333.00 vs 333.10 (difference -0.10)" in refused.detail
    assert not book.new_invoice_ids


def test_an_erp_invoice_for_a_cancelled_order_is_refused() -> None:
    order = order_confirmed("D1")
    book = InvoiceBook()
    handle(book, order, EXTERNAL)
    handle(book, order_cancelled("D1", order.payload.order_id), EXTERNAL)
    register = register_external("D1", order.payload.order_id, "ERP-1")
    assert only(handle(book, register, EXTERNAL), "invoice.rejected").reason_code == (
        "order_cancelled"
    )


def test_a_payment_can_name_the_erp_invoice() -> None:
    order = order_confirmed("D1")
    book = InvoiceBook()
    handle(book, order, EXTERNAL)
    handle(book, register_external("D1", order.payload.order_id, "ERP-1"), EXTERNAL)
    paid = only(
        handle(book, record_payment("D1", "333.10", external_invoice_id="ERP-1"), EXTERNAL),
        "invoice.paid",
    )
    assert paid.status.value == "complete"
    mismatch = record_payment("D1", "1", invoice_id=uuid4(), external_invoice_id="ERP-1")
    assert only(handle(book, mismatch, EXTERNAL), "invoice.rejected").reason_code == (
        "unknown_invoice"
    )


def test_two_erp_invoices_held_for_one_order_post_the_first_and_refuse_the_second() -> None:
    order = order_confirmed("D1")
    book = InvoiceBook()
    handle(book, register_external("D1", order.payload.order_id, "ERP-1"), EXTERNAL)
    handle(book, register_external("D1", order.payload.order_id, "ERP-2"), EXTERNAL)
    events = handle(book, order, EXTERNAL)
    assert [t for t, _ in events] == ["invoice.posted", "invoice.rejected"]
    assert events[0][1].payload.external_invoice_id == "ERP-1"
    assert events[1][1].payload.reason_code == "order_already_invoiced"
    assert events[1][1].payload.subject_id == "ERP-2"


def test_an_erp_invoice_held_before_a_switch_to_native_mode_is_refused_wrong_mode() -> None:
    order = order_confirmed("D1")
    book = native_book()
    handle(book, register_external("D1", order.payload.order_id, "ERP-1"), EXTERNAL)
    events = handle(book, order, NATIVE)
    assert [t for t, _ in events] == ["invoice.rejected", "invoice.posted"]
    assert events[0][1].payload.reason_code == "wrong_mode"
    assert events[1][1].payload.source.value == "native"


def test_an_erp_invoice_of_another_deal_is_refused() -> None:
    order = order_confirmed("D1")
    book = InvoiceBook()
    handle(book, order, EXTERNAL)
    refused = only(
        handle(book, register_external("D9", order.payload.order_id, "ERP-1"), EXTERNAL),
        "invoice.rejected",
    )
    assert refused.reason_code == "deal_mismatch"


# --- payments and cancellation -------------------------------------------------------------


def invoiced(book: InvoiceBook, deal: str = "D1") -> Any:
    return only(handle(book, order_confirmed(deal)), "invoice.posted")


def test_partial_then_complete_payment_with_running_totals_and_dedupe_by_payment_id() -> None:
    book = native_book()
    posted = invoiced(book)
    first = record_payment("D1", "100.10", invoice_id=posted.invoice_id)
    paid = only(handle(book, first), "invoice.paid")
    assert (paid.amount_paid_total, paid.balance_due, paid.status.value) == (
        Decimal("100.10"),
        Decimal("233.00"),
        "partial",
    )
    # The paying system retries under a new event id: no effect, no event.
    assert handle(book, first.model_copy(update={"event_id": uuid4()})) == []
    over = record_payment("D1", "233.01", invoice_id=posted.invoice_id)
    assert only(handle(book, over), "invoice.rejected").reason_code == "overpayment"
    rest = only(
        handle(book, record_payment("D1", "233.00", invoice_id=posted.invoice_id)),
        "invoice.paid",
    )
    assert (rest.amount_paid_total, rest.balance_due, rest.status.value) == (
        Decimal("333.10"),
        Decimal("0.00"),
        "complete",
    )
    assert len(book.new_payments) == 2
    assert book.invoice(posted.invoice_id).state is InvoiceState.PAID  # type: ignore[union-attr]


def test_a_paid_invoice_cannot_be_cancelled_an_unpaid_one_can() -> None:
    book = native_book()
    paid = invoiced(book, "D1")
    handle(book, record_payment("D1", "1", invoice_id=paid.invoice_id))
    refused = only(handle(book, cancel_invoice("D1", paid.invoice_id)), "invoice.rejected")
    assert refused.reason_code == "has_payments"
    unpaid = invoiced(book, "D2")
    done = only(handle(book, cancel_invoice("D2", unpaid.invoice_id)), "invoice.cancelled")
    assert (done.invoice_id, done.reason) == (unpaid.invoice_id, "issued in error")
    again = only(handle(book, cancel_invoice("D2", unpaid.invoice_id)), "invoice.rejected")
    assert again.reason_code == "already_cancelled"
    other_deal = only(handle(book, cancel_invoice("D3", paid.invoice_id)), "invoice.rejected")
    assert other_deal.reason_code == "deal_mismatch"


def test_a_cancelled_order_voids_its_unpaid_invoice_and_keeps_a_paid_one() -> None:
    book = native_book()
    unpaid_order = order_confirmed("D1")
    handle(book, unpaid_order)
    voided = only(
        handle(book, order_cancelled("D1", unpaid_order.payload.order_id, "withdrew")),
        "invoice.cancelled",
    )
    assert voided.reason == "order cancelled: withdrew"
    assert book.order(unpaid_order.payload.order_id).cancelled  # type: ignore[union-attr]
    paid_order = order_confirmed("D2")
    posted = only(handle(book, paid_order), "invoice.posted")
    handle(book, record_payment("D2", "5", invoice_id=posted.invoice_id))
    assert handle(book, order_cancelled("D2", paid_order.payload.order_id)) == []
    assert book.invoice(posted.invoice_id).state is InvoiceState.PAID  # type: ignore[union-attr]
    assert book.order(paid_order.payload.order_id).cancelled  # type: ignore[union-attr]


# --- plumbing ------------------------------------------------------------------------------


def test_only_native_batches_with_orders_take_the_counter_lock() -> None:
    order = order_confirmed("D1")
    pay = record_payment("D1", "1", invoice_id=uuid4(), external_invoice_id="ERP-1")
    batch = [incoming(order), incoming(pay)]
    touches = touches_of(batch, NATIVE, NOW)
    assert touches.counter_year == 2026
    assert touches.order_ids == {order.payload.order_id}
    assert touches.payment_ids == {pay.payload.payment_id}
    assert touches.external_ids == {"ERP-1"}
    assert touches_of(batch, EXTERNAL, NOW).counter_year is None
    assert touches_of([incoming(pay)], NATIVE, NOW).counter_year is None


def test_settings_choose_the_mode_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert InvoiceSettings().policy() == InvoicingPolicy(InvoicingMode.NATIVE, "INV")
    monkeypatch.setenv("SALESFLOW_INVOICE_MODE", "external")
    monkeypatch.setenv("SALESFLOW_INVOICE_NUMBER_PREFIX", "ACME")
    assert InvoiceSettings().policy() == InvoicingPolicy(InvoicingMode.EXTERNAL, "ACME")
    monkeypatch.setenv("SALESFLOW_INVOICE_NUMBER_PREFIX", "no spaces")
    with pytest.raises(ValidationError):
        InvoiceSettings()


def test_lines_survive_the_round_trip_through_jsonb() -> None:
    order = order_of(order_confirmed("D1").payload, "D1")
    assert lines_from_json(lines_to_json(order.lines)) == order.lines
    write_in = replace(order.lines[1])
    assert write_in.sku is None and write_in.write_in
