"""order_svc handlers against an in-memory OrderBook: state and recorded events, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from contracts.documents import DocumentTotals
from contracts.envelope import Envelope, decode
from contracts.money import sum_totals
from services.order_svc.domain import Completeness, Numbering, OrderState, order_id_for
from services.order_svc.handlers import HANDLERS
from services.order_svc.store import OrderBook, order_from_row, row_from_order
from shared.messages import Incoming, Outgoing
from tests.support.orders import accepted, cancel, fulfilment, invoice_posted, priced_lines

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DEAL = "L-2026-000001"
NUMBERING = Numbering()


def handle(book: OrderBook, envelope: Envelope[Any]) -> list[Outgoing]:
    msg = Incoming(envelope, "any", 0, 0)
    return HANDLERS[envelope.event_type](book, msg, NUMBERING, NOW)


def events(out: list[Outgoing]) -> list[tuple[str, Envelope[Any]]]:
    return [(o.topic, decode(o.payload or b"")) for o in out]


def only(out: list[Outgoing]) -> tuple[str, Any]:
    [(topic, envelope)] = events(out)
    return topic, envelope.payload


def confirmed(book: OrderBook, deal: str = DEAL) -> tuple[Envelope[Any], Any]:
    quote = accepted(deal)
    topic, payload = only(handle(book, quote))
    assert topic == "order.confirmed"
    return quote, payload


def test_an_accepted_quote_is_confirmed_with_everything_an_erp_needs() -> None:
    book = OrderBook()
    quote = accepted(DEAL)
    out = handle(book, quote)
    [(topic, envelope)] = events(out)
    assert topic == "order.confirmed"
    assert out[0].key == DEAL.encode()
    assert (envelope.deal_id, envelope.causation_id, envelope.producer) == (
        DEAL,
        quote.event_id,
        "order_svc",
    )
    assert envelope.occurred_at == NOW
    q, o = quote.payload, envelope.payload
    assert o.order_id == order_id_for(q.quote_id)
    assert o.order_number == "SO-2026-00001"
    assert (o.quote_id, o.quote_number, o.opportunity_id, o.lead_id) == (
        q.quote_id,
        q.quote_number,
        q.opportunity_id,
        q.lead_id,
    )
    assert (o.account_id, o.account_name, o.contact_id, o.contact) == (
        q.account_id,
        q.account_name,
        q.contact_id,
        q.contact,
    )
    assert (o.price_list_id, o.currency, o.payment_terms, o.customer_po) == (
        q.price_list_id,
        q.currency,
        q.payment_terms,
        q.customer_po,
    )
    assert o.lines == q.lines
    assert o.totals == q.totals
    assert o.confirmed_at == NOW
    saved = book.created[o.order_id]
    assert saved.state is OrderState.SUBMITTED
    assert book.counters == {2026: 1}
    assert book.counters_changed == {2026}


def test_numbers_follow_the_years_counter_and_a_refusal_takes_none() -> None:
    book = OrderBook(counters={2026: 41})
    _, first = confirmed(book, "D1")
    tampered = accepted("D2", totals=DocumentTotals.from_money(_totals_plus_cent()))
    assert only(handle(book, tampered))[0] == "order.rejected"
    _, second = confirmed(book, "D3")
    assert (first.order_number, second.order_number) == ("SO-2026-00042", "SO-2026-00043")
    assert book.counters[2026] == 43


def test_the_same_quote_again_under_a_new_event_id_is_refused_order_exists() -> None:
    book = OrderBook()
    quote, _ = confirmed(book)
    again = accepted(DEAL, quote_id=quote.payload.quote_id)
    assert again.event_id != quote.event_id
    topic, rejection = only(handle(book, again))
    assert topic == "order.rejected"
    assert (rejection.reason_code, rejection.command_type) == ("order_exists", "quote.accepted")
    assert rejection.command_event_id == again.event_id
    assert rejection.subject_id == str(quote.payload.quote_id)
    assert len(book.created) == 1
    assert book.counters == {2026: 1}


def test_an_order_loaded_from_the_database_blocks_a_second_one_too() -> None:
    first = OrderBook()
    quote, _ = confirmed(first)
    book = OrderBook()
    for order in first.created.values():
        book.remember(order)
    topic, rejection = only(handle(book, accepted(DEAL, quote_id=quote.payload.quote_id)))
    assert (topic, rejection.reason_code) == ("order.rejected", "order_exists")


def test_tampered_totals_are_rejected_and_no_order_is_made() -> None:
    book = OrderBook()
    quote = accepted(DEAL, totals=DocumentTotals.from_money(_totals_plus_cent()))
    topic, rejection = only(handle(book, quote))
    assert (topic, rejection.reason_code) == ("order.rejected", "totals_mismatch")
    assert "grand_total" in rejection.detail
    assert not book.created
    assert not book.counters_changed


def test_fulfilment_then_cancel_is_refused_already_fulfilled() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    topic, first = only(handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "4"})))
    assert topic == "order.fulfilled"
    assert first.completeness.value == "partial"
    assert [(x.line_no, x.quantity_ordered, x.quantity_shipped_total) for x in first.lines] == [
        (1, Decimal(10), Decimal(4)),
        (2, Decimal(3), Decimal(0)),
        (3, Decimal(1), Decimal(0)),
    ]
    topic, second = only(
        handle(book, fulfilment(DEAL, order.order_id, "S2", {1: "6", 2: "3", 3: "1"}))
    )
    assert (topic, second.completeness.value, second.shipment_ref) == (
        "order.fulfilled",
        "complete",
        "S2",
    )
    saved = book.created[order.order_id]  # created and fulfilled in one batch: still one insert
    assert saved.completeness is Completeness.COMPLETE
    assert not book.changed
    topic, rejection = only(handle(book, cancel(DEAL, order.order_id)))
    assert (topic, rejection.reason_code) == ("order.rejected", "already_fulfilled")


def test_a_shipment_resent_under_a_new_event_id_is_rejected_duplicate() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "4"}))
    topic, rejection = only(handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "4"})))
    assert (topic, rejection.reason_code) == ("order.rejected", "duplicate_shipment")
    assert book.created[order.order_id].shipped == {1: Decimal(4)}


def test_a_fresh_order_is_cancelled() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    topic, cancelled = only(handle(book, cancel(DEAL, order.order_id, "changed mind")))
    assert topic == "order.cancelled"
    assert (cancelled.order_id, cancelled.order_number, cancelled.reason) == (
        order.order_id,
        order.order_number,
        "changed mind",
    )
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.CANCELED


def test_a_command_from_another_deal_is_refused() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    topic, rejection = only(handle(book, cancel("someone-else", order.order_id)))
    assert (topic, rejection.reason_code) == ("order.rejected", "deal_mismatch")


def test_commands_for_unknown_orders_are_refused() -> None:
    book = OrderBook()
    for envelope in (cancel(DEAL, uuid4()), fulfilment(DEAL, uuid4(), "S1", {1: "1"})):
        topic, rejection = only(handle(book, envelope))
        assert (topic, rejection.reason_code) == ("order.rejected", "unknown_order")


def test_an_invoice_marks_the_order_invoiced_silently_and_blocks_cancel() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    invoice_id = uuid4()
    posted = invoice_posted(
        DEAL, order.order_id, invoice_id=invoice_id, invoice_number="INV-2026-000009"
    )
    assert handle(book, posted) == []
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.INVOICED
    assert saved.invoice is not None
    assert (saved.invoice.invoice_id, saved.invoice.invoice_number) == (
        invoice_id,
        "INV-2026-000009",
    )
    topic, rejection = only(handle(book, cancel(DEAL, order.order_id)))
    assert (topic, rejection.reason_code) == ("order.rejected", "already_invoiced")


def test_an_invoice_for_an_order_made_elsewhere_is_ignored() -> None:
    book = OrderBook()
    assert handle(book, invoice_posted(DEAL, uuid4())) == []
    assert not book.changed
    assert not book.created


def test_an_invoice_for_a_cancelled_order_is_recorded_but_the_order_stays_cancelled() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    handle(book, cancel(DEAL, order.order_id))
    assert handle(book, invoice_posted(DEAL, order.order_id, invoice_number="INV-X")) == []
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.CANCELED
    assert [i.invoice_number for i in saved.invoices] == ["INV-X"]


def test_a_loaded_order_that_changes_is_saved_as_changed_not_created() -> None:
    first = OrderBook()
    _, confirmed_order = confirmed(first)
    book = OrderBook()
    book.remember(first.created[confirmed_order.order_id])
    handle(book, fulfilment(DEAL, confirmed_order.order_id, "S1", {1: "1"}))
    assert list(book.changed) == [confirmed_order.order_id]
    assert not book.created


def test_an_order_survives_its_row_form_unchanged() -> None:
    book = OrderBook()
    _, confirmed_order = confirmed(book)
    handle(book, fulfilment(DEAL, confirmed_order.order_id, "S1", {1: "4", 3: "1"}))
    handle(book, invoice_posted(DEAL, confirmed_order.order_id))
    order = book.get(confirmed_order.order_id)
    assert order is not None
    row = row_from_order(order)
    assert row["state"] == "invoiced"
    assert row["completeness"] == "partial"
    assert row["shipped"] == {"1": "4", "3": "1"}
    assert order_from_row(_Row(row)) == order


class _Row:
    """A database row as SQLAlchemy returns it: attribute access, JSON already parsed."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _totals_plus_cent() -> Any:
    lines = priced_lines()
    totals = sum_totals((line.amounts("EUR") for line in lines), "EUR")
    return type(totals)(
        totals.subtotal,
        totals.discount_total,
        totals.net_total,
        totals.tax_total,
        totals.grand_total + Decimal("0.01"),
        totals.currency,
    )
