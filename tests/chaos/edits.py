"""Finding things in the checker's fixture and breaking them the way a bug would."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chaos.history import History, Rec
from chaos.verdict import check
from contracts.documents import BaseAmounts
from contracts.due import days_past_due
from contracts.dunning import InvoiceDunning
from contracts.envelope import make_envelope
from contracts.quotes import QuoteRejectReason, RejectQuote
from contracts.rejections import CommandRejected
from contracts.ticks import TimeTicked


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


# a week past the due date of the fixture's first invoice (1 January 2027): its first reminder
TICK_AT = datetime(2027, 1, 8, 6, tzinfo=UTC)


def with_time_and_base(history: History) -> History:
    """The fixture as a run with time rules would record it: a tick (8 January 2027), the first
    reminder it sends of one open invoice, and base amounts (EUR, rate 1) on the quotes issued. The
    recorded history predates ticks, dunning and base amounts."""
    issued = [r for r in history.records if r.env is not None and r.topic == "quote.issued"]
    for r in issued:
        totals = payload(r).totals
        base = BaseAmounts(
            base_currency="EUR", exchange_rate=Decimal(1), rate_date=date(2026, 1, 1), totals=totals
        )
        swap(history, r, with_payload(r, base=base))
    posted = first(history, "invoice.posted")
    invoice = payload(posted)
    reminder = InvoiceDunning(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        order_id=invoice.order_id,
        account_id=invoice.account_id,
        account_name=invoice.account_name,
        currency=invoice.currency,
        due_date=invoice.due_date,
        amount_due=invoice.totals.grand_total,
        # as invoice_svc decides it on the tick: as of the tick's day
        days_overdue=days_past_due(invoice.due_date, TICK_AT.date()),
        as_of=TICK_AT.date(),
        level=1,
        level_days=7,
        final=False,
    )
    tick = TimeTicked(at=TICK_AT, period_seconds=3600)
    ticked = _event(posted, "clock.ticked", tick, topic="clock.ticks")
    assert ticked.env is not None
    history.records.append(ticked)
    for service in ("quote_svc", "order_svc", "invoice_svc"):
        history.db.inbox.setdefault(service, set()).add(ticked.env.event_id)
    history.records.append(
        _event(
            posted,
            "invoice.dunning",
            reminder,
            causation_id=ticked.env.event_id,
            occurred_at=TICK_AT,
        )
    )
    # Every quote valid through the end of January, after the tick.
    history.db.quotes = [replace(q, valid_until=date(2027, 1, 31)) for q in history.db.quotes]
    return history


def _event(
    like: Rec,
    event_type: str,
    body: Any,
    topic: str | None = None,
    causation_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> Rec:
    assert like.env is not None
    env = make_envelope(
        body,
        event_type=event_type,
        deal_id=like.env.deal_id,
        producer="invoice_svc",
        occurred_at=occurred_at or like.env.occurred_at,
        causation_id=causation_id,
    )
    return replace(like, topic=topic or event_type, offset=like.offset + 20_000, env=env)


def with_races(history: History) -> History:
    """The fixture as a run with the driver's races would record it (the recorded history
    predates them): one accepted quote was also rejected at the same moment from another
    client, and refused as no longer open; one payment was sent twice (same payment id, another
    event id) and its second copy changed nothing."""
    accepted = first(history, "quote.accepted")
    assert accepted.env is not None
    accept = next(
        r
        for r in history.records
        if r.env is not None and r.env.event_id == accepted.env.causation_id
    )
    assert accept.env is not None
    reject_body = RejectQuote(
        quote_id=payload(accept).quote_id,
        reason=QuoteRejectReason.LOST,
        requested_by="procurement",
        note="budget withdrawn",
    )
    reject = _event(accept, "quote.reject", reject_body, topic="quote.commands")
    assert reject.env is not None
    refusal_body = CommandRejected(
        command_event_id=reject.env.event_id,
        command_type="quote.reject",
        reason_code="not_open",
        detail="the quote is accepted",
        subject_id=str(payload(accept).quote_id),
    )
    refusal = _event(accept, "quote.rejected", refusal_body, causation_id=reject.env.event_id)
    paid = first(history, "invoice.paid")
    assert paid.env is not None
    payment = next(
        r for r in history.records if r.env is not None and r.env.event_id == paid.env.causation_id
    )
    twin = copy_as_new_event(payment)
    assert twin.env is not None
    history.records.extend([reject, refusal, twin])
    history.db.inbox.setdefault("quote_svc", set()).add(reject.env.event_id)
    history.db.inbox.setdefault("invoice_svc", set()).add(twin.env.event_id)
    return history
