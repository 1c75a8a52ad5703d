"""order_svc handlers against an in-memory OrderBook: state and recorded events, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.documents import DocumentTotals
from contracts.envelope import Envelope, decode
from contracts.money import sum_totals
from services.order_svc.domain import Completeness, OrderPolicy, OrderState, order_id_for
from services.order_svc.handlers import HANDLERS, touches_of
from services.order_svc.store import OrderBook, OrderStore, Touches, order_from_row, row_from_order
from shared.messages import Incoming, Outgoing
from shared.stage import HandlerStage
from tests.support.orders import (
    accepted,
    cancel,
    fulfilment,
    invoice_paid,
    invoice_posted,
    priced_lines,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DEAL = "L-2026-000001"
POLICY = OrderPolicy()


def handle(book: OrderBook, envelope: Envelope[Any]) -> list[Outgoing]:
    msg = Incoming(envelope, "any", 0, 0)
    return HANDLERS[envelope.event_type](book, msg, POLICY, NOW)


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


def test_an_invoice_of_the_whole_order_marks_it_invoiced_and_a_cancel_still_goes_through() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    invoice_id = uuid4()
    posted = invoice_posted(
        DEAL, order.order_id, invoice_id=invoice_id, invoice_number="INV-2026-000009"
    )
    topic, billing = only(handle(book, posted))
    assert (topic, billing.billing_status.value, billing.document_id) == (
        "order.invoiced",
        "fully_invoiced",
        invoice_id,
    )
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.INVOICED
    assert saved.invoice is not None
    assert (saved.invoice.invoice_id, saved.invoice.invoice_number) == (
        invoice_id,
        "INV-2026-000009",
    )
    # invoice_svc credits the invoice on order.cancelled.
    topic, cancelled = only(handle(book, cancel(DEAL, order.order_id, "changed mind")))
    assert (topic, cancelled.order_id, cancelled.reason) == (
        "order.cancelled",
        order.order_id,
        "changed mind",
    )
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.CANCELED


def test_a_payment_marks_the_invoice_paid_silently_and_a_cancel_still_goes_through() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    first, second = uuid4(), uuid4()
    handle(book, invoice_posted(DEAL, order.order_id, invoice_id=first, invoice_number="INV-1"))
    handle(book, invoice_posted(DEAL, order.order_id, invoice_id=second, invoice_number="INV-2"))
    assert handle(book, invoice_paid(DEAL, first, invoice_number="INV-1")) == []
    saved = book.get(order.order_id)
    assert saved is not None
    assert [(i.invoice_number, i.paid) for i in saved.invoices] == [
        ("INV-1", True),
        ("INV-2", False),
    ]
    assert saved.state is OrderState.INVOICED
    # A second payment (new payment id, new event id) changes nothing.
    assert handle(book, invoice_paid(DEAL, first, amount="126.10", balance_due="0")) == []
    assert book.get(order.order_id) == saved
    # Money received does not hold the order: invoice_svc credits and owes a refund.
    topic, cancelled = only(handle(book, cancel(DEAL, order.order_id)))
    assert (topic, cancelled.order_id) == ("order.cancelled", order.order_id)
    final = book.get(order.order_id)
    assert final is not None
    assert final.state is OrderState.CANCELED
    assert [(i.invoice_number, i.paid) for i in final.invoices] == [
        ("INV-1", True),
        ("INV-2", False),
    ]


def test_a_payment_for_an_unknown_order_or_invoice_is_ignored() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    handle(book, invoice_posted(DEAL, order.order_id, invoice_number="INV-1"))
    before = book.get(order.order_id)
    changed_before = dict(book.changed)
    assert handle(book, invoice_paid("another-deal", uuid4())) == []
    assert handle(book, invoice_paid(DEAL, uuid4())) == []  # not an invoice of ours
    assert book.get(order.order_id) == before
    assert book.changed == changed_before


def test_an_invoice_for_an_order_made_elsewhere_is_ignored() -> None:
    book = OrderBook()
    assert handle(book, invoice_posted(DEAL, uuid4())) == []
    assert not book.changed
    assert not book.created


def test_an_invoice_for_a_cancelled_order_is_recorded_but_the_order_stays_cancelled() -> None:
    book = OrderBook()
    _, order = confirmed(book)
    handle(book, cancel(DEAL, order.order_id))
    invoice_id = uuid4()
    posted = invoice_posted(DEAL, order.order_id, invoice_id=invoice_id, invoice_number="INV-X")
    # Its billing is announced all the same: invoice_svc credits it, which will show there.
    topic, billing = only(handle(book, posted))
    assert (topic, billing.billing_status.value) == ("order.invoiced", "fully_invoiced")
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.CANCELED
    assert [i.invoice_number for i in saved.invoices] == ["INV-X"]
    # Paid after the cancellation: recorded, the order stays canceled (a refund at invoice_svc).
    assert handle(book, invoice_paid(DEAL, invoice_id, invoice_number="INV-X")) == []
    late = book.get(order.order_id)
    assert late is not None
    assert late.state is OrderState.CANCELED
    assert [(i.invoice_number, i.paid) for i in late.invoices] == [("INV-X", True)]


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


def test_the_paid_mark_survives_the_row_form_and_old_rows_read_unpaid() -> None:
    book = OrderBook()
    _, confirmed_order = confirmed(book)
    first, second = uuid4(), uuid4()
    handle(book, invoice_posted(DEAL, confirmed_order.order_id, invoice_id=first))
    handle(book, invoice_posted(DEAL, confirmed_order.order_id, invoice_id=second))
    handle(book, invoice_paid(DEAL, second))
    order = book.get(confirmed_order.order_id)
    assert order is not None
    row = row_from_order(order)
    assert [(i["invoice_id"], i["paid"]) for i in row["invoices"]] == [
        (str(first), False),
        (str(second), True),
    ]
    assert order_from_row(_Row(row)) == order
    # Written before payments were tracked: no "paid" key, read as no payment seen.
    old = {
        **row,
        "invoices": [{k: v for k, v in i.items() if k != "paid"} for i in row["invoices"]],
    }
    assert [i.paid for i in order_from_row(_Row(old)).invoices] == [False, False]


class _RecordingStore(OrderStore):
    """The store's two calls, against a prepared book: what the stage asks to load and save."""

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.loads: list[dict[str, Any]] = []
        self.saved: list[OrderBook] = []

    async def load(self, conn: AsyncConnection, touches: Touches) -> OrderBook:
        year = touches.counter_year
        self.loads.append(
            {
                "order_ids": set(touches.order_ids),
                "quote_ids": set(touches.quote_ids),
                "counter_years": [] if year is None else [year],
                "deal_ids": set(touches.deal_ids),
            }
        )
        return self.book

    async def save(self, conn: AsyncConnection, book: OrderBook) -> None:
        self.saved.append(book)


async def test_a_batch_loads_a_payments_order_by_deal_in_its_one_load_and_marks_it_paid() -> None:
    earlier = OrderBook()
    _, one = confirmed(earlier, "D1")
    _, two = confirmed(earlier, "D2")
    loaded = OrderBook()
    for order in earlier.created.values():
        loaded.remember(order)
    invoice_one, invoice_two = uuid4(), uuid4()
    batch: list[Envelope[Any]] = [
        invoice_posted("D1", one.order_id, invoice_id=invoice_one, invoice_number="INV-1"),
        invoice_posted("D2", two.order_id, invoice_id=invoice_two, invoice_number="INV-2"),
        invoice_paid("D1", invoice_one, invoice_number="INV-1"),
        cancel("D1", one.order_id),  # paid in this very batch: canceled all the same
        cancel("D2", two.order_id),  # invoiced, unpaid: canceled
        invoice_paid("D3", uuid4()),  # no order of ours
    ]
    store = _RecordingStore(loaded)
    stage = HandlerStage(HANDLERS, touches_of, store, POLICY)
    out = await stage.apply(
        cast(AsyncConnection, None), [Incoming(e, "any", 0, n) for n, e in enumerate(batch)], NOW
    )
    assert store.loads == [
        {
            "order_ids": {one.order_id, two.order_id},
            "quote_ids": set(),
            "counter_years": [],
            "deal_ids": {"D1", "D3"},
        }
    ]
    assert store.saved == [loaded]
    assert sorted(
        (t, e.deal_id, getattr(e.payload, "reason_code", None)) for t, e in events(out)
    ) == [
        ("order.cancelled", "D1", None),
        ("order.cancelled", "D2", None),
        ("order.invoiced", "D1", None),
        ("order.invoiced", "D2", None),
    ]
    saved_one, saved_two = loaded.changed[one.order_id], loaded.changed[two.order_id]
    assert [(i.invoice_number, i.paid) for i in saved_one.invoices] == [("INV-1", True)]
    assert saved_one.state is OrderState.CANCELED
    assert [(i.invoice_number, i.paid) for i in saved_two.invoices] == [("INV-2", False)]
    assert saved_two.state is OrderState.CANCELED


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
