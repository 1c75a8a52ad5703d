"""Stale hand-offs on ticks: an ERP invoice held for an order that never came, an order the ERP
never acknowledged; each alerted once, at and after the configured hours, never before."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from contracts.envelope import Envelope, decode
from services.order_svc.domain import OrderPolicy
from services.order_svc.handlers import HANDLERS as ORDER_HANDLERS
from services.order_svc.handlers import touches_of as order_touches
from services.order_svc.store import OrderBook
from shared.messages import Incoming
from shared.ticker import tick_envelope
from tests.support import invoices as s
from tests.support.invoice_driver import EXTERNAL, NOW, Desk, on, topics
from tests.support.orders import accepted, acknowledge


def tick_at(at: datetime) -> Envelope[Any]:
    return tick_envelope(at, 3600)


def test_an_erp_invoice_held_for_an_order_that_never_came_is_alerted_once() -> None:
    desk = Desk(policy=replace(EXTERNAL, held_alert_hours=24))
    held = desk.send(s.register_external("D1", uuid4(), "ERP-1", order_number="SO-2026-09999"))
    assert held == []  # held, waiting for its order

    assert desk.send(tick_at(NOW + timedelta(hours=23, minutes=59))) == []
    events = desk.send(tick_at(NOW + timedelta(hours=24)))
    assert topics(events) == ["invoice.handoff_stale"]
    (alert,) = on(events, "invoice.handoff_stale")
    assert (alert.external_invoice_id, alert.order_number, alert.waited_hours) == (
        "ERP-1",
        "SO-2026-09999",
        24,
    )
    assert (alert.threshold_hours, alert.waiting_since) == (24, NOW)
    assert events[0][1].deal_id == "D1"
    assert desk.send(tick_at(NOW + timedelta(days=3))) == []


def test_no_alert_when_switched_off_or_once_the_order_came() -> None:
    off = Desk(policy=replace(EXTERNAL, held_alert_hours=0))
    off.send(s.register_external("D1", uuid4(), "ERP-1"))
    assert off.send(tick_at(NOW + timedelta(days=30))) == []

    desk = Desk(policy=EXTERNAL)
    confirmed = s.order_confirmed("D2")
    desk.send(s.register_external("D2", confirmed.payload.order_id, "ERP-2"))
    desk.send(confirmed)  # the order arrives: the ERP invoice is no longer held
    assert desk.send(tick_at(NOW + timedelta(days=30))) == []


def order_book_with(deal: str, policy: OrderPolicy) -> tuple[OrderBook, Any]:
    book = OrderBook()
    quote = accepted(deal)
    out = ORDER_HANDLERS["quote.accepted"](book, Incoming(quote, "x", 0, 0), policy, NOW)
    (confirmed,) = [decode(o.payload or b"").payload for o in out]
    return book, confirmed


def order_tick(book: OrderBook, at: datetime, policy: OrderPolicy) -> list[tuple[str, Any]]:
    msg = Incoming(tick_at(at), "clock.ticks", 0, 0)
    out = ORDER_HANDLERS["clock.ticked"](book, msg, policy, NOW)
    return [(o.topic, decode(o.payload or b"").payload) for o in out]


def test_an_order_the_erp_has_not_acknowledged_in_time_is_alerted_once() -> None:
    policy = OrderPolicy(ack_alert_hours=4)
    book, confirmed = order_book_with("D1", policy)
    confirmed_at = book.orders[confirmed.order_id].confirmed_at

    assert order_tick(book, confirmed_at + timedelta(hours=3, minutes=59), policy) == []
    out = order_tick(book, confirmed_at + timedelta(hours=5), policy)
    assert [t for t, _ in out] == ["order.handoff_stale"]
    alert = out[0][1]
    assert (alert.order_id, alert.order_number, alert.waited_hours, alert.threshold_hours) == (
        confirmed.order_id,
        confirmed.order_number,
        5,
        4,
    )
    assert order_tick(book, confirmed_at + timedelta(days=2), policy) == []
    stored = book.orders[confirmed.order_id]
    assert stored.ack_alerted_at == confirmed_at + timedelta(hours=5)


def test_an_acknowledged_order_or_the_default_policy_raises_nothing() -> None:
    policy = OrderPolicy(ack_alert_hours=4)
    book, confirmed = order_book_with("D1", policy)
    ack = acknowledge("D1", "4500012345", order_id=confirmed.order_id)
    ORDER_HANDLERS["order.acknowledge"](book, Incoming(ack, "x", 0, 0), policy, NOW)
    assert order_tick(book, NOW + timedelta(days=3), policy) == []

    default = OrderPolicy()
    book, _ = order_book_with("D2", default)
    assert order_tick(book, NOW + timedelta(days=300), default) == []
    batch = [Incoming(tick_at(NOW), "clock.ticks", 0, 0)]
    assert order_touches(batch, default, NOW).unacknowledged_before is None
    assert order_touches(batch, policy, NOW).unacknowledged_before == NOW - timedelta(hours=4)
