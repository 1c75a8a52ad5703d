"""order_svc and the ERP: the customer details and delivery terms an order carries from its
quote, the ERP's acknowledgement (its order number) and refusal, resubmission corrected, and the
refusals of each. Handlers against an in-memory OrderBook, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from contracts.envelope import Envelope, decode
from services.order_svc import domain
from services.order_svc.domain import OrderPolicy, OrderState
from services.order_svc.handlers import HANDLERS, touches_of
from services.order_svc.store import OrderBook, order_from_row, row_from_order
from shared.messages import Incoming, Outgoing
from tests.support.orders import (
    accepted,
    acknowledge,
    cancel,
    fulfilment,
    invoice_posted,
    refuse,
    resubmit,
)
from tests.support.parties import address, customer_details

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DEAL = "L-2026-000001"
POLICY = OrderPolicy()
WAREHOUSE = address("7 Dock Road", "Hamburg", "DE")


def handle(book: OrderBook, envelope: Envelope[Any]) -> list[tuple[str, Any]]:
    out: list[Outgoing] = HANDLERS[envelope.event_type](
        book, Incoming(envelope, "t", 0, 0), POLICY, NOW
    )
    return [(o.topic, decode(o.payload or b"").payload) for o in out]


def only(events: list[tuple[str, Any]], topic: str) -> Any:
    assert [t for t, _ in events] == [topic], events
    return events[0][1]


def refused(events: list[tuple[str, Any]]) -> str:
    return str(only(events, "order.rejected").reason_code)


def confirmed(book: OrderBook, deal: str = DEAL, **changes: Any) -> Any:
    quote = accepted(deal, **changes)
    return only(handle(book, quote), "order.confirmed")


def order_of(book: OrderBook, confirmed_order: Any) -> domain.Order:
    found = book.get(confirmed_order.order_id)
    assert found is not None
    return found


def with_details(book: OrderBook) -> Any:
    quote = accepted(DEAL)
    details = customer_details(quote.payload.account_id)
    return confirmed(
        book,
        customer_details=details,
        requested_delivery_date=date(2026, 12, 15),
        shipping_method="express",
    )


# --- the order carries its customer details -----------------------------------------------


def test_an_order_is_confirmed_with_the_quotes_customer_details_and_delivery_terms() -> None:
    book = OrderBook()
    order = with_details(book)
    assert order.customer_details.sold_to == "Analytical Engines Ltd"
    assert order.customer_details.ship_to.city == "London"
    assert order.customer_details.bill_to.lines == ("1 Counting House Lane",)
    assert (order.customer_details.tax_id, order.customer_details.erp_customer_number) == (
        "GB123456789",
        "C-10042",
    )
    assert (order.requested_delivery_date, order.shipping_method) == (date(2026, 12, 15), "express")
    stored = order_of(book, order)
    assert stored.customer_details is not None and stored.customer_details.ship_to is not None
    assert stored.customer_details.ship_to.country == "GB"


def test_an_order_from_a_quote_without_customer_details_carries_none() -> None:
    order = confirmed(OrderBook())
    assert (order.customer_details, order.requested_delivery_date, order.shipping_method) == (
        None,
        None,
        None,
    )


# --- acknowledge ---------------------------------------------------------------------------


def test_the_erp_acknowledges_by_order_id_and_the_same_number_again_is_a_no_op() -> None:
    book = OrderBook()
    order = confirmed(book)
    event = only(
        handle(book, acknowledge(DEAL, "4711", order_id=order.order_id)), "order.acknowledged"
    )
    assert (event.order_id, event.order_number, event.erp_order_number) == (
        order.order_id,
        order.order_number,
        "4711",
    )
    stored = order_of(book, order)
    assert (stored.state, stored.erp_order_number) == (OrderState.ACKNOWLEDGED, "4711")
    assert handle(book, acknowledge(DEAL, "4711", order_id=order.order_id)) == []


def test_another_erp_number_for_an_acknowledged_order_is_refused() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, acknowledge(DEAL, "4711", order_id=order.order_id))
    assert refused(handle(book, acknowledge(DEAL, "4712", order_id=order.order_id))) == (
        "erp_number_differs"
    )
    assert order_of(book, order).erp_order_number == "4711"


def test_the_erp_may_name_the_order_by_its_number() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, acknowledge(DEAL, "4711", order_number=order.order_number))
    assert order_of(book, order).erp_order_number == "4711"


@pytest.mark.parametrize(
    ("names", "code"),
    [
        ({"order_number": "SO-2026-99999"}, "unknown_order"),
        ({"order_id": "other"}, "unknown_order"),
        ({"order_id": "own", "order_number": "SO-2026-99999"}, "unknown_order"),
    ],
)
def test_an_acknowledgement_naming_no_order_of_ours_is_refused(
    names: dict[str, str], code: str
) -> None:
    book = OrderBook()
    order = confirmed(book)
    given: dict[str, Any] = dict(names)
    if "order_id" in given:
        given["order_id"] = order.order_id if given["order_id"] == "own" else uuid4()
    assert refused(handle(book, acknowledge(DEAL, "4711", **given))) == code


def test_an_erp_number_another_order_carries_is_refused() -> None:
    book = OrderBook()
    first = confirmed(book)
    second = confirmed(book, deal="L-2026-000002")
    handle(book, acknowledge(DEAL, "4711", order_id=first.order_id))
    events = handle(book, acknowledge("L-2026-000002", "4711", order_id=second.order_id))
    assert refused(events) == "erp_number_in_use"


def test_an_acknowledgement_on_another_deal_is_refused() -> None:
    book = OrderBook()
    order = confirmed(book)
    assert refused(handle(book, acknowledge("other-deal", "4711", order_id=order.order_id))) == (
        "deal_mismatch"
    )


def test_a_cancelled_order_still_records_the_erp_number_and_stays_cancelled() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, cancel(DEAL, order.order_id))
    only(handle(book, acknowledge(DEAL, "4711", order_id=order.order_id)), "order.acknowledged")
    stored = order_of(book, order)
    assert (stored.state, stored.erp_order_number) == (OrderState.CANCELED, "4711")


def test_an_acknowledged_order_that_ships_is_fulfilled() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, acknowledge(DEAL, "4711", order_id=order.order_id))
    only(handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "1"})), "order.fulfilled")
    assert order_of(book, order).state is OrderState.FULFILLED


# --- refuse --------------------------------------------------------------------------------


def test_the_erp_refuses_an_order_which_then_takes_no_shipment() -> None:
    book = OrderBook()
    order = confirmed(book)
    event = only(
        handle(book, refuse(DEAL, order_number=order.order_number, reason_code="credit_block")),
        "order.refused",
    )
    assert (event.order_id, event.reason_code) == (order.order_id, "credit_block")
    stored = order_of(book, order)
    assert stored.state is OrderState.REFUSED_BY_ERP
    assert stored.erp_refusal == domain.ErpRefusal(
        "credit_block", "the ship-to address is not deliverable"
    )
    # The same refusal again (a retry under a new event id): nothing.
    assert handle(book, refuse(DEAL, order_id=order.order_id, reason_code="credit_block")) == []
    # Another one replaces it.
    again = only(handle(book, refuse(DEAL, order_id=order.order_id)), "order.refused")
    assert again.reason_code == "unknown_ship_to"
    assert refused(handle(book, fulfilment(DEAL, order.order_id, "S1", {1: "1"}))) == (
        "refused_by_erp"
    )


def test_a_refusal_of_an_acknowledged_cancelled_or_shipped_order_is_refused() -> None:
    book = OrderBook()
    acknowledged, cancelled, shipped = (confirmed(book, deal=f"D{n}") for n in range(3))
    handle(book, acknowledge("D0", "4711", order_id=acknowledged.order_id))
    handle(book, cancel("D1", cancelled.order_id))
    handle(book, fulfilment("D2", shipped.order_id, "S1", {1: "1"}))
    assert refused(handle(book, refuse("D0", order_id=acknowledged.order_id))) == (
        "already_acknowledged"
    )
    assert refused(handle(book, refuse("D1", order_id=cancelled.order_id))) == "already_cancelled"
    assert refused(handle(book, refuse("D2", order_id=shipped.order_id))) == "already_shipped"
    assert refused(handle(book, refuse("D2", order_number="SO-2026-99999"))) == "unknown_order"


def test_a_refusal_of_an_invoiced_order_is_refused_the_erp_cancels_it_instead() -> None:
    """Review of issue 11, finding 7: the customer holds an invoice (on_order billing posts it
    before the ERP answers); a refusal would leave it open, a cancellation credits it."""
    book = OrderBook()
    order = confirmed(book)
    handle(book, invoice_posted(DEAL, order.order_id, invoice_number="INV-2026-000042"))
    rejected = only(handle(book, refuse(DEAL, order_id=order.order_id)), "order.rejected")
    assert (rejected.reason_code, rejected.subject_id) == ("already_invoiced", str(order.order_id))
    assert "INV-2026-000042" in rejected.detail
    assert "order.cancel" in rejected.detail
    assert order_of(book, order).erp_refusal is None
    assert order_of(book, order).state is OrderState.INVOICED
    only(handle(book, cancel(DEAL, order.order_id)), "order.cancelled")


def test_a_refusal_resent_after_its_order_was_invoiced_is_still_a_no_op() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    handle(book, invoice_posted(DEAL, order.order_id))
    assert handle(book, refuse(DEAL, order_id=order.order_id)) == []
    assert refused(
        handle(book, refuse(DEAL, order_id=order.order_id, reason_code="credit_block"))
    ) == ("already_invoiced")


def test_a_refused_order_can_be_cancelled() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    only(handle(book, cancel(DEAL, order.order_id)), "order.cancelled")
    assert order_of(book, order).state is OrderState.CANCELED
    assert refused(handle(book, resubmit(DEAL, order.order_id))) == "not_refused"


def test_the_erp_acknowledging_a_refused_order_after_all_clears_the_refusal() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    only(handle(book, acknowledge(DEAL, "4711", order_id=order.order_id)), "order.acknowledged")
    stored = order_of(book, order)
    assert (stored.state, stored.erp_refusal) == (OrderState.ACKNOWLEDGED, None)


# --- resubmit ------------------------------------------------------------------------------


def test_a_refused_order_is_resubmitted_corrected_as_the_whole_document() -> None:
    book = OrderBook()
    order = with_details(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    command = resubmit(
        DEAL,
        order.order_id,
        ship_to=WAREHOUSE,
        requested_delivery_date=date(2026, 12, 20),
        customer_po="PO 4711/2026-A",
    )
    document = only(handle(book, command), "order.resubmitted")
    assert (document.order_id, document.order_number) == (order.order_id, order.order_number)
    assert document.customer_details.ship_to == WAREHOUSE
    assert document.customer_details.bill_to == order.customer_details.bill_to
    assert (document.requested_delivery_date, document.shipping_method, document.customer_po) == (
        date(2026, 12, 20),
        "express",  # not corrected: unchanged
        "PO 4711/2026-A",
    )
    assert (document.lines, document.totals) == (order.lines, order.totals)
    stored = order_of(book, order)
    assert (stored.state, stored.erp_refusal, stored.customer_po) == (
        OrderState.SUBMITTED,
        None,
        "PO 4711/2026-A",
    )
    # Resubmitted is Submitted again: a second resubmission is refused, a new answer may come.
    assert refused(handle(book, command)) == "not_refused"
    only(handle(book, acknowledge(DEAL, "4711", order_id=order.order_id)), "order.acknowledged")


def test_a_ship_to_correction_gives_an_order_without_details_some() -> None:
    book = OrderBook()
    order = confirmed(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    document = only(
        handle(book, resubmit(DEAL, order.order_id, ship_to=WAREHOUSE)), "order.resubmitted"
    )
    assert document.customer_details.model_dump(exclude_none=True) == {
        "account_id": order.account_id,
        "sold_to": order.account_name,
        "ship_to": WAREHOUSE.model_dump(exclude_none=True),
    }


def test_only_a_refused_order_of_this_deal_is_resubmitted() -> None:
    book = OrderBook()
    order = confirmed(book)
    assert refused(handle(book, resubmit(DEAL, order.order_id))) == "not_refused"
    handle(book, refuse(DEAL, order_id=order.order_id))
    assert refused(handle(book, resubmit("other-deal", order.order_id))) == "deal_mismatch"
    assert refused(handle(book, resubmit(DEAL, uuid4()))) == "unknown_order"


def test_an_order_refused_then_invoiced_is_invoiced_again_once_resubmitted() -> None:
    """The invoice read after the refusal (an invoice refused first is `already_invoiced`)."""
    book = OrderBook()
    order = confirmed(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    handle(book, invoice_posted(DEAL, order.order_id))  # billed at confirmation (on_order)
    assert order_of(book, order).state is OrderState.REFUSED_BY_ERP
    only(handle(book, resubmit(DEAL, order.order_id)), "order.resubmitted")
    assert order_of(book, order).state is OrderState.INVOICED


# --- batches and rows ----------------------------------------------------------------------


def test_a_batch_loads_orders_named_by_number_and_the_erp_numbers_it_acknowledges() -> None:
    book = OrderBook()
    order = confirmed(book)
    batch = [
        Incoming(acknowledge(DEAL, "4711", order_number=order.order_number), "t", 0, 0),
        Incoming(refuse(DEAL, order_id=order.order_id), "t", 0, 1),
        Incoming(resubmit(DEAL, order.order_id), "t", 0, 2),
    ]
    touches = touches_of(batch, POLICY, NOW)
    assert touches.order_numbers == {order.order_number}
    assert touches.erp_order_numbers == {"4711"}
    assert touches.order_ids == {order.order_id}
    assert touches.counter_year is None


def test_the_erp_fields_survive_the_row_form() -> None:
    book = OrderBook()
    order = with_details(book)
    handle(book, refuse(DEAL, order_id=order.order_id))
    stored = order_of(book, order)
    row = row_from_order(stored)
    assert (row["state"], row["erp_refusal_code"]) == ("refused_by_erp", "unknown_ship_to")
    assert order_from_row(SimpleNamespace(**row)) == stored
    handle(book, acknowledge(DEAL, "4711", order_id=order.order_id))
    row = row_from_order(order_of(book, order))
    assert (row["erp_order_number"], row["erp_refusal_code"], row["state"]) == (
        "4711",
        None,
        "acknowledged",
    )
    assert order_from_row(SimpleNamespace(**row)) == order_of(book, order)
