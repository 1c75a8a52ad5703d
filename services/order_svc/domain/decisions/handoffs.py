"""A stale hand-off order_svc can see, decided on a tick with the tick's time as `now`: an order
confirmed (handed to the ERP) that the ERP has not acknowledged within the deployment's hours.
Each order is alerted once (it keeps `ack_alerted_at`); an acknowledgement, a refusal (a state
of its own, with its own event) or a cancellation ends the wait."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from services.order_svc.domain.model import Order, OrderPolicy, OrderState


def unacknowledged(orders: Iterable[Order], policy: OrderPolicy, now: datetime) -> list[Order]:
    """The orders to alert about as of `now`, with `ack_alerted_at` set, oldest first."""
    if policy.ack_alert_hours <= 0:
        return []
    limit = timedelta(hours=policy.ack_alert_hours)
    due = [
        o
        for o in orders
        if o.state is OrderState.SUBMITTED
        and o.erp_order_number is None
        and o.ack_alerted_at is None
        and now - o.confirmed_at >= limit
    ]
    due.sort(key=lambda o: (o.confirmed_at, o.order_id))
    return [replace(o, ack_alerted_at=now) for o in due]


def waited_hours(since: datetime, now: datetime) -> int:
    return max(int((now - since).total_seconds() // 3600), 0)
