"""The order's billing: quantities invoiced per line net of credit notes, the billing status and
the Invoiced state, `order.invoiced`; the billing terms carried from the accepted quote; and
what `order.cancelled` says of the lines. Pure domain first, then the handlers on an OrderBook."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope, decode
from contracts.invoices import InvoiceKind as WireInvoiceKind
from services.order_svc import domain, wire
from services.order_svc.domain import (
    Billed,
    BillingPolicy,
    BillingStatus,
    BillingTerms,
    CreditNote,
    Ignored,
    InvoiceKind,
    Order,
    OrderState,
    PostedInvoice,
)
from services.order_svc.handlers import HANDLERS, touches_of
from services.order_svc.store import OrderBook, order_from_row, row_from_order
from shared.messages import Incoming, Outgoing
from tests.support.orders import (
    accepted,
    cancel,
    fulfilment,
    invoice_credited,
    invoice_paid,
    invoice_posted,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
DEAL = "L-2026-000001"
POLICY = domain.OrderPolicy()


def placed() -> Order:
    """The order of the support's accepted quote: line 1 of 10, line 2 of 3, line 3 of 1."""
    decision = domain.place_order(
        wire.accepted_quote(accepted(DEAL).payload),
        deal_id=DEAL,
        existing=None,
        number="SO-2026-00001",
        now=NOW,
    )
    assert isinstance(decision, domain.Confirmed), decision
    return decision.order


def shipped(order: Order, ref: str, **lines: str) -> Order:
    decision = domain.record_fulfilment(
        order,
        order_id=order.order_id,
        deal_id=DEAL,
        shipment_ref=ref,
        shipped=[(int(n.removeprefix("l")), Decimal(q)) for n, q in lines.items()],
        now=LATER,
    )
    assert isinstance(decision, domain.Fulfilled), decision
    return decision.order


ALL = ((1, "10"), (2, "3"), (3, "1"))


def bill(order: Order, *lines: tuple[int, str], kind: InvoiceKind = InvoiceKind.STANDARD) -> Billed:
    invoice = PostedInvoice(uuid4(), "INV-1", kind, tuple((n, Decimal(q)) for n, q in lines))
    decision = domain.record_invoice(
        order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=LATER
    )
    assert isinstance(decision, Billed), decision
    return decision


def credit(order: Order, *lines: tuple[int, str], note_id: UUID | None = None) -> Billed:
    note = CreditNote(note_id or uuid4(), "CN-1", uuid4(), tuple((n, Decimal(q)) for n, q in lines))
    decision = domain.record_credit(
        order, order_id=order.order_id, deal_id=DEAL, credit=note, now=LATER
    )
    assert isinstance(decision, Billed), decision
    return decision


def quantities(order: Order) -> list[Decimal]:
    return [order.invoiced_of(line.line_no) for line in order.lines]


def q(*values: int) -> list[Decimal]:
    return [Decimal(v) for v in values]


# --- the domain ----------------------------------------------------------------------------


def test_standard_invoices_add_up_per_line_from_not_to_partly_to_fully_invoiced() -> None:
    order = placed()
    assert (order.billing_status, quantities(order)) == (BillingStatus.NOT_INVOICED, q(0, 0, 0))
    first = bill(order, (1, "4"))
    assert first.changed
    assert first.order.billing_status is BillingStatus.PARTLY_INVOICED
    assert quantities(first.order) == q(4, 0, 0)
    # Partly invoiced is no state of its own: the order stays where fulfilment put it.
    assert first.order.state is OrderState.SUBMITTED
    assert first.order.updated_at == LATER
    second = bill(first.order, (1, "6"), (2, "3"), (3, "1"))
    assert second.order.billing_status is BillingStatus.FULLY_INVOICED
    assert quantities(second.order) == q(10, 3, 1)
    assert second.order.state is OrderState.INVOICED
    assert [i.invoice_number for i in second.order.invoices] == ["INV-1", "INV-1"]


def test_an_invoice_may_name_a_line_twice() -> None:
    assert quantities(bill(placed(), (1, "4"), (1, "6")).order) == q(10, 0, 0)


def test_a_down_payment_is_recorded_but_bills_no_quantity_and_is_not_announced() -> None:
    order = placed()
    # Its lines are per tax rate: their numbers are no order lines.
    decision = bill(order, (1, "1"), kind=InvoiceKind.DOWN_PAYMENT)
    assert not decision.changed
    assert decision.stray_lines == ()
    assert quantities(decision.order) == q(0, 0, 0)
    assert decision.order.billing_status is BillingStatus.NOT_INVOICED
    assert [i.invoice_id for i in decision.order.invoices] == [decision.document_id]
    # Recorded, so a payment for it finds the order.
    paid = domain.mark_invoice_paid(
        [decision.order], deal_id=DEAL, invoice_id=decision.document_id, now=LATER
    )
    assert isinstance(paid, domain.InvoiceMarkedPaid)


def test_a_credit_note_takes_quantities_back_and_an_invoiced_order_falls_back() -> None:
    order = bill(shipped(placed(), "S1", l1="4"), *ALL).order
    assert order.state is OrderState.INVOICED
    decision = credit(order, (1, "6"))
    assert decision.changed
    assert decision.document_id in decision.order.credit_notes
    assert quantities(decision.order) == q(4, 3, 1)
    assert decision.order.billing_status is BillingStatus.PARTLY_INVOICED
    # Something shipped: Fulfilled, as if it had never been invoiced in full.
    assert decision.order.state is OrderState.FULFILLED
    back = credit(decision.order, (1, "4"), (2, "3"), (3, "1")).order
    assert (back.billing_status, quantities(back)) == (BillingStatus.NOT_INVOICED, q(0, 0, 0))
    assert credit(bill(placed(), *ALL).order, (2, "1")).order.state is OrderState.SUBMITTED


def test_a_credit_of_an_amount_or_a_down_payment_is_recorded_without_an_announcement() -> None:
    order = bill(placed(), (1, "4")).order
    decision = credit(order)
    assert not decision.changed
    assert quantities(decision.order) == q(4, 0, 0)
    assert decision.order.credit_notes == {decision.document_id}


def test_each_document_counts_once_whatever_its_event_id() -> None:
    order = placed()
    invoice = PostedInvoice(uuid4(), "INV-1", InvoiceKind.STANDARD, ((1, Decimal(4)),))
    once = domain.record_invoice(
        order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=LATER
    )
    assert isinstance(once, Billed)
    twice = domain.record_invoice(
        once.order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=LATER
    )
    assert isinstance(twice, Ignored)
    assert twice.reason == "invoice_known"
    note_id = uuid4()
    credited = credit(once.order, (1, "1"), note_id=note_id).order
    note = CreditNote(note_id, "CN-1", invoice.invoice_id, ((1, Decimal(1)),))
    again = domain.record_credit(
        credited, order_id=order.order_id, deal_id=DEAL, credit=note, now=LATER
    )
    assert isinstance(again, Ignored)
    assert (again.reason, quantities(credited)) == ("credit_known", q(3, 0, 0))


@pytest.mark.parametrize(
    ("order_of", "deal", "reason"),
    [
        (lambda o: None, DEAL, "unknown_order"),
        (lambda o: o, "another-deal", "deal_mismatch"),
    ],
)
def test_documents_for_no_order_of_ours_are_ignored(
    order_of: object, deal: str, reason: str
) -> None:
    order = placed()
    target = order_of(order)  # type: ignore[operator]
    invoice = PostedInvoice(uuid4(), "INV-1", InvoiceKind.STANDARD, ((1, Decimal(4)),))
    note = CreditNote(uuid4(), "CN-1", uuid4(), ((1, Decimal(1)),))
    decisions = [
        domain.record_invoice(
            target, order_id=order.order_id, deal_id=deal, invoice=invoice, now=LATER
        ),
        domain.record_credit(target, order_id=order.order_id, deal_id=deal, credit=note, now=LATER),
    ]
    assert [(type(d), getattr(d, "reason", None)) for d in decisions] == [(Ignored, reason)] * 2


def test_lines_the_order_does_not_have_are_not_counted_but_named() -> None:
    decision = bill(placed(), (1, "4"), (7, "1"), (9, "2"))
    assert decision.stray_lines == (7, 9)
    assert dict(decision.order.invoiced) == {1: Decimal(4)}
    note = credit(decision.order, (8, "1"))
    assert (note.stray_lines, note.changed) == ((8,), False)


def test_more_than_ordered_is_recorded_as_billed_and_reads_fully_invoiced() -> None:
    # An event, not a command: over-billing is the biller's to correct (with a credit note).
    order = bill(placed(), (1, "12"), (2, "3"), (3, "1")).order
    assert (order.billing_status, quantities(order)) == (
        BillingStatus.FULLY_INVOICED,
        q(12, 3, 1),
    )


def test_the_arrival_order_of_invoices_and_credit_notes_does_not_matter() -> None:
    # Invoices and credit notes come on two topics: a credit note may be read before its
    # invoice. It never shows below zero meanwhile, and every order ends the same.
    invoices = [
        PostedInvoice(uuid4(), "INV-1", InvoiceKind.STANDARD, ((1, Decimal(10)),)),
        PostedInvoice(uuid4(), "INV-2", InvoiceKind.STANDARD, ((2, Decimal(3)), (3, Decimal(1)))),
    ]
    notes = [CreditNote(uuid4(), "CN-1", invoices[0].invoice_id, ((1, Decimal(4)),))]
    documents: list[PostedInvoice | CreditNote] = [*invoices, *notes, invoices[0], notes[0]]
    ends = set()
    for arrival in permutations(documents):
        order = placed()
        for document in arrival:
            if isinstance(document, PostedInvoice):
                d = domain.record_invoice(
                    order, order_id=order.order_id, deal_id=DEAL, invoice=document, now=LATER
                )
            else:
                d = domain.record_credit(
                    order, order_id=order.order_id, deal_id=DEAL, credit=document, now=LATER
                )
            order = d.order if isinstance(d, Billed) else order
            assert all(q >= 0 for q in quantities(order))
        ends.add((order.billing_status, tuple(quantities(order)), order.state))
    assert ends == {
        (BillingStatus.PARTLY_INVOICED, (Decimal(6), Decimal(3), Decimal(1)), OrderState.SUBMITTED)
    }


def test_a_canceled_order_counts_its_billing_and_stays_canceled() -> None:
    order = replace(placed(), state=OrderState.CANCELED)
    billed = bill(order, *ALL)
    assert billed.changed
    assert (billed.order.state, billed.order.billing_status) == (
        OrderState.CANCELED,
        BillingStatus.FULLY_INVOICED,
    )
    credited = credit(billed.order, *ALL).order
    assert (credited.state, credited.billing_status) == (
        OrderState.CANCELED,
        BillingStatus.NOT_INVOICED,
    )


def test_a_shipment_keeps_a_fully_invoiced_order_invoiced() -> None:
    order = bill(placed(), *ALL).order
    assert shipped(order, "S1", l1="1").state is OrderState.INVOICED
    partly = bill(placed(), (1, "10")).order
    assert shipped(partly, "S1", l1="1").state is OrderState.FULFILLED


# --- the handlers --------------------------------------------------------------------------


def handle(book: OrderBook, envelope: Envelope[Any]) -> list[Outgoing]:
    return HANDLERS[envelope.event_type](book, Incoming(envelope, "any", 0, 0), POLICY, NOW)


def events(out: list[Outgoing]) -> list[tuple[str, Any]]:
    return [(o.topic, decode(o.payload or b"").payload) for o in out]


def confirmed(book: OrderBook, **terms: Any) -> Any:
    [(topic, order)] = events(handle(book, accepted(DEAL, **terms)))
    assert topic == "order.confirmed"
    return order


def invoiced_lines(payload: Any) -> list[tuple[int, Decimal, Decimal]]:
    return [(x.line_no, x.quantity_ordered, x.quantity_invoiced) for x in payload.lines]


def test_the_billing_terms_of_the_accepted_quote_are_on_the_order_and_its_row() -> None:
    book = OrderBook()
    order = confirmed(
        book, invoicing_policy=InvoicingPolicy.DOWN_PAYMENT, down_payment_rate=Decimal("0.3")
    )
    assert (order.invoicing_policy, order.down_payment_rate) == (
        InvoicingPolicy.DOWN_PAYMENT,
        Decimal("0.3"),
    )
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.billing == BillingTerms(BillingPolicy.DOWN_PAYMENT, Decimal("0.3"))
    row = row_from_order(saved)
    assert (row["invoicing_policy"], row["down_payment_rate"]) == ("down_payment", Decimal("0.3"))
    assert order_from_row(_Row(row)) == saved


def test_without_billing_terms_the_order_leaves_them_to_the_deployment() -> None:
    order = confirmed(OrderBook())
    assert (order.invoicing_policy, order.down_payment_rate) == (None, None)


def test_invoices_and_credit_notes_are_announced_as_order_invoiced() -> None:
    book = OrderBook()
    order = confirmed(book)
    invoice_id = uuid4()
    posted = invoice_posted(DEAL, order.order_id, invoice_id=invoice_id, lines={1: "4"})
    [(topic, billing)] = events(handle(book, posted))
    assert topic == "order.invoiced"
    assert (billing.order_id, billing.order_number, billing.document_id) == (
        order.order_id,
        order.order_number,
        invoice_id,
    )
    assert billing.billing_status.value == "partly_invoiced"
    assert invoiced_lines(billing) == [
        (1, Decimal(10), Decimal(4)),
        (2, Decimal(3), Decimal(0)),
        (3, Decimal(1), Decimal(0)),
    ]
    rest = invoice_posted(DEAL, order.order_id, lines={1: "6", 2: "3", 3: "1"})
    [(_, billing)] = events(handle(book, rest))
    assert billing.billing_status.value == "fully_invoiced"
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.INVOICED
    note_id = uuid4()
    note = invoice_credited(
        DEAL, order.order_id, invoice_id, credit_note_id=note_id, order_lines={1: "2"}
    )
    [(topic, billing)] = events(handle(book, note))
    assert (topic, billing.document_id, billing.billing_status.value) == (
        "order.invoiced",
        note_id,
        "partly_invoiced",
    )
    assert invoiced_lines(billing)[0] == (1, Decimal(10), Decimal(8))
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.SUBMITTED
    # The same credit note under a new event id changes nothing and says nothing.
    again = invoice_credited(
        DEAL, order.order_id, invoice_id, credit_note_id=note_id, order_lines={1: "2"}
    )
    assert again.event_id != note.event_id
    assert handle(book, again) == []
    assert book.get(order.order_id) == saved


def test_a_down_payment_and_a_credit_of_an_amount_are_recorded_silently() -> None:
    book = OrderBook()
    order = confirmed(book)
    invoice_id = uuid4()
    down = invoice_posted(
        DEAL, order.order_id, invoice_id=invoice_id, kind=WireInvoiceKind.DOWN_PAYMENT
    )
    assert handle(book, down) == []
    assert handle(book, invoice_credited(DEAL, order.order_id, invoice_id)) == []
    saved = book.get(order.order_id)
    assert saved is not None
    assert [i.invoice_id for i in saved.invoices] == [invoice_id]
    assert len(saved.credit_notes) == 1
    assert saved.billing_status is BillingStatus.NOT_INVOICED
    assert handle(book, invoice_paid(DEAL, invoice_id)) == []


def test_a_credit_note_for_an_order_made_elsewhere_is_ignored() -> None:
    book = OrderBook()
    assert handle(book, invoice_credited(DEAL, uuid4(), uuid4(), order_lines={1: "1"})) == []
    assert not book.changed
    assert not book.created


def test_the_billing_survives_the_row_form() -> None:
    book = OrderBook()
    order = confirmed(book)
    invoice_id = uuid4()
    handle(book, invoice_posted(DEAL, order.order_id, invoice_id=invoice_id, lines={1: "4"}))
    handle(book, invoice_credited(DEAL, order.order_id, invoice_id, order_lines={1: "1.5"}))
    saved = book.get(order.order_id)
    assert saved is not None
    row = row_from_order(saved)
    assert (row["billing_status"], row["invoiced"], row["credited"]) == (
        "partly_invoiced",
        {"1": "4"},
        {"1": "1.5"},
    )
    assert row["credit_note_ids"] == [str(c) for c in saved.credit_notes]
    assert (row["invoicing_policy"], row["down_payment_rate"]) == (None, None)
    assert order_from_row(_Row(row)) == saved


def test_a_credit_note_names_its_order_for_the_batch_load() -> None:
    order_id = uuid4()
    batch = [Incoming(invoice_credited(DEAL, order_id, uuid4()), "invoice.credited", 0, 0)]
    assert touches_of(batch, POLICY, NOW).order_ids == {order_id}


@pytest.mark.parametrize(
    ("shipments", "shipped_totals"),
    [
        ([], q(0, 0, 0)),
        ([{1: "4"}], q(4, 0, 0)),
        ([{1: "10"}, {2: "1", 3: "1"}], q(10, 1, 1)),
    ],
)
def test_order_cancelled_carries_every_line_with_what_shipped(
    shipments: list[dict[int, str]], shipped_totals: list[Decimal]
) -> None:
    book = OrderBook()
    order = confirmed(book)
    for n, lines in enumerate(shipments):
        handle(book, fulfilment(DEAL, order.order_id, f"S{n}", lines))
    [(topic, cancelled)] = events(handle(book, cancel(DEAL, order.order_id, "rest not needed")))
    assert (topic, cancelled.reason) == ("order.cancelled", "rest not needed")
    assert [x.line_no for x in cancelled.lines] == [1, 2, 3]
    assert [x.quantity_ordered for x in cancelled.lines] == q(10, 3, 1)
    assert [x.quantity_shipped_total for x in cancelled.lines] == shipped_totals
    saved = book.get(order.order_id)
    assert saved is not None
    assert saved.state is OrderState.CANCELED
    assert row_from_order(saved)["completeness"] == ("partial" if shipments else None)


def test_a_fully_shipped_order_cannot_be_canceled() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "10", 2: "3", 3: "1"}))
    [(topic, rejection)] = events(handle(book, cancel(DEAL, order.order_id)))
    assert (topic, rejection.reason_code) == ("order.rejected", "already_fulfilled")


class _Row:
    """A database row as SQLAlchemy returns it: attribute access, JSON already parsed."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
