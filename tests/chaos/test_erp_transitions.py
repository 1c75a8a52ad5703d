"""legal_transitions knows the ERP's answers to an order (review of issue 11, finding 16):
order_svc's Acknowledged and RefusedByErp states, and a refused order resubmitted. The recorded
history (conftest.py) has none, so each test adds the answers to one of its orders, as order_svc
would publish them, and checks that a legal sequence passes every invariant and a broken one
fails legal_transitions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chaos.history import History, Rec
from chaos.orders import ORDER_STATES
from contracts.envelope import make_envelope
from contracts.orders import OrderAcknowledged, OrderRefused, OrderResubmitted
from services.order_svc.domain import OrderState
from tests.chaos.edits import failing, payload

Answer = tuple[str, int]  # (event type, milliseconds after the order's last step)


def test_the_harness_knows_every_state_order_svc_has() -> None:
    assert {state.value for state in OrderState} == ORDER_STATES


def _order(history: History, *, shipped: bool = False) -> tuple[Rec, int]:
    """An order.confirmed whose deal was not cancelled (`shipped`: and shipped), and when its
    last shipment (or, none, its confirmation) was stamped."""
    cancelled = {r.key for r in history.records if r.topic == "order.cancelled"}
    shipments = {r.key for r in history.records if r.topic == "order.fulfilled"}
    confirmed = next(
        r
        for r in history.records
        if r.topic == "order.confirmed"
        and r.env is not None
        and r.key not in cancelled
        and (r.key in shipments or not shipped)
    )
    steps = [
        r.timestamp_ms
        for r in history.records
        if r.key == confirmed.key and r.topic in ("order.confirmed", "order.fulfilled")
    ]
    return confirmed, max(steps)


def _answered(
    history: History, answers: list[Answer], state: str | None = None, *, early: bool = False
) -> None:
    """The ERP's answers added to an order, each `ms` after its last step (`early`: after the
    confirmation of an order shipped later), and its row put in `state`."""
    confirmed, last = _order(history, shipped=early)
    order = payload(confirmed)
    base = confirmed.timestamp_ms if early else last
    for n, (event_type, after_ms) in enumerate(answers):
        answer = _answer(confirmed, order, event_type, base + after_ms, n)
        history.records.append(answer)
        # The ERP's command it answers, applied by order_svc (its inbox).
        assert answer.env is not None and answer.env.causation_id is not None
        history.db.inbox.setdefault("order_svc", set()).add(answer.env.causation_id)
    if state is not None:
        history.db.orders = [
            replace(row, state=state) if row.order_id == order.order_id else row
            for row in history.db.orders
        ]


def _answer(confirmed: Rec, order: Any, event_type: str, at: int, n: int) -> Rec:
    body: Any
    if event_type == "order.acknowledged":
        body = OrderAcknowledged(
            order_id=order.order_id, order_number=order.order_number, erp_order_number="4711"
        )
    elif event_type == "order.refused":
        body = OrderRefused(
            order_id=order.order_id,
            order_number=order.order_number,
            reason_code="credit_block",
            detail="over the credit limit",
        )
    else:
        body = OrderResubmitted(**order.model_dump())
    envelope = make_envelope(
        body,
        event_type=event_type,
        deal_id=confirmed.key,
        producer="order_svc",
        occurred_at=datetime.fromtimestamp(at / 1000, UTC),
        causation_id=uuid.uuid4(),
    )
    return Rec(event_type, confirmed.partition, 900_000 + n, confirmed.key, at, env=envelope)


def test_acknowledged_refused_and_resubmitted_orders_pass(history: History) -> None:
    _answered(history, [("order.acknowledged", 5)])
    assert failing(history) == set()


def test_a_refusal_pending_shows_on_the_row(history: History) -> None:
    _answered(history, [("order.refused", 5)], state="refused_by_erp")
    assert failing(history) == set()


def test_a_refused_order_resubmitted_then_acknowledged_passes(history: History) -> None:
    answers = [("order.refused", 5), ("order.resubmitted", 10), ("order.acknowledged", 20)]
    _answered(history, answers)
    assert failing(history) == set()


def test_a_row_in_a_state_order_svc_does_not_have(history: History) -> None:
    _answered(history, [], state="on_hold")
    assert failing(history) == {"legal_transitions"}


def test_a_row_acknowledged_without_the_event(history: History) -> None:
    _answered(history, [], state="acknowledged")
    assert failing(history) == {"legal_transitions"}


def test_a_refused_row_without_a_refusal(history: History) -> None:
    _answered(history, [("order.acknowledged", 5)], state="refused_by_erp")
    assert failing(history) == {"legal_transitions"}


def test_a_refusal_pending_but_the_row_moved_on(history: History) -> None:
    _answered(history, [("order.refused", 5)])
    assert failing(history) == {"legal_transitions"}


def test_a_shipment_while_the_refusal_was_pending(history: History) -> None:
    _answered(history, [("order.refused", 0)], "refused_by_erp", early=True)
    assert failing(history) == {"legal_transitions"}


def test_a_resubmission_without_a_refusal(history: History) -> None:
    _answered(history, [("order.resubmitted", 5)])
    assert failing(history) == {"legal_transitions"}


def test_a_refusal_after_the_erp_acknowledged_the_order(history: History) -> None:
    _answered(history, [("order.acknowledged", 5), ("order.refused", 10)], "refused_by_erp")
    assert failing(history) == {"legal_transitions"}


def test_an_answer_before_the_order_was_confirmed(history: History) -> None:
    _answered(history, [("order.acknowledged", -5)], early=True)
    assert failing(history) == {"legal_transitions"}


def test_answers_in_one_millisecond_are_not_held_against_each_other(history: History) -> None:
    _answered(history, [("order.acknowledged", 5), ("order.refused", 5)])
    assert failing(history) == set()
