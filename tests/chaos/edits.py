"""Finding things in the checker's fixture and breaking them the way a bug would."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from chaos.history import History, Rec
from chaos.verdict import check


def failing(history: History) -> set[str]:
    return {r.name for r in check(history) if not r.passed}


def payload(r: Rec) -> Any:
    assert r.env is not None
    return r.env.payload


def first(history: History, event_type: str, deal: str | None = None) -> Rec:
    for r in history.records:
        if r.env is not None and r.env.event_type == event_type and deal in (None, r.key):
            return r
    raise LookupError(event_type)


def deal_with(history: History, *event_types: str) -> str:
    kinds: dict[str, set[str]] = {}
    for r in history.records:
        if r.env is not None and r.key.startswith("deal-"):
            kinds.setdefault(r.key, set()).add(r.env.event_type)
    return next(d for d, k in sorted(kinds.items()) if set(event_types) <= k)


def cancellation(history: History, *, shipped: bool, refund: bool) -> Rec:
    """The order.cancelled of a deal cancelled with (or without) something shipped, whose
    cancellation made a refund due (or not)."""
    refunded = {r.key for r in history.records if r.topic == "refund.due"}
    for r in history.records:
        if r.topic != "order.cancelled" or r.env is None:
            continue
        some = any(line.quantity_shipped_total > 0 for line in payload(r).lines)
        if some == shipped and (r.key in refunded) == refund:
            return r
    raise LookupError(f"no cancellation with shipped={shipped}, refund={refund}")


def policy_deal(history: History, policy: str, *, shipments: int) -> str:
    """A deal billed by `policy`, not cancelled, with `shipments` shipments."""
    cancelled = {r.key for r in history.records if r.topic == "order.cancelled"}
    for r in history.records:
        if r.topic != "order.confirmed" or r.env is None or r.key in cancelled:
            continue
        asked = payload(r).invoicing_policy
        count = len(
            {s.offset for s in history.records if s.key == r.key and s.topic == "order.fulfilled"}
        )
        if asked is not None and asked.value == policy and count == shipments:
            return r.key
    raise LookupError(policy)


def swap(history: History, old: Rec, new: Rec) -> None:
    history.records[history.records.index(old)] = new


def with_payload(r: Rec, **changes: Any) -> Rec:
    assert r.env is not None
    env = r.env.model_copy(update={"payload": r.env.payload.model_copy(update=changes)})
    return replace(r, env=env)


def copy_as_new_event(r: Rec, offset_shift: int = 10_000) -> Rec:
    """The same effect published again under a new event id (what a second apply would do)."""
    assert r.env is not None
    return replace(
        r, offset=r.offset + offset_shift, env=r.env.model_copy(update={"event_id": uuid.uuid4()})
    )
