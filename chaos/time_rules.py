"""The invariants of time and money across currencies, over a `History` after quiescence.

- no Active quote is past its validity after a tick: as of the latest tick of the run, every
  quote still Active is valid on that tick's day (quote_svc expires the others on the tick);
- each reminder level at most once per invoice, and never after payment: one `invoice.dunning`
  event per (invoice, level), and every reminder asks for money the invoice really still owed at
  some point (its amount due is the posted total or a balance one of its own payment or credit
  events announced, and never zero). Checked on amounts rather than on publication times: two
  workers' relays may publish in another order than they committed;
- base amounts by the rule: on every document that carries them, each base total is
  round(rate x total) in the base currency (`contracts.money.convert`);
- time rules on the tick: every effect of a time rule (a quote expired, an invoice overdue, a
  reminder, a stale hand-off) was decided by a tick of the run, is stamped with that tick's time,
  was due as of it (never early), and fired once. A worker whose clock is hours off
  (`clock_skew`) stamps and decides everything else with its own clock; these, never.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from chaos.checker import Index, Result, p
from contracts.due import days_past_due, is_overdue
from contracts.money import convert
from contracts.quotes import QuoteCloseStatus

_DOCUMENTS = (
    "quote.issued",
    "quote.accepted",
    "order.confirmed",
    "invoice.posted",
    "invoice.credited",
)
_TOTALS = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")


def no_active_quote_past_validity(ix: Index) -> Result:
    res = Result(
        "no_active_quote_past_validity",
        "after the latest tick of the run, no quote is still Active past its last valid day",
    )
    ticks = [p(r).at for r in ix.of_type("clock.ticked")]
    if not ticks:
        return res
    day = max(ticks).date()
    res.counts["latest_tick_day_ordinal"] = day.toordinal()
    for quote in ix.h.db.quotes:
        if quote.valid_until is None:
            continue
        res.checked += 1  # every quote with a validity is looked at; only an Active one can fail
        if quote.state == "active" and quote.valid_until < day:
            res.fail(
                f"quote {quote.quote_number} rev {quote.revision} is Active, valid until "
                f"{quote.valid_until}, after a tick of {day}"
            )
    return res


def reminders_once_and_never_after_payment(ix: Index) -> Result:
    res = Result(
        "reminders_once_and_never_after_payment",
        "each reminder level at most once per invoice, and only for money the invoice still "
        "owed (never once paid or credited)",
    )
    owed: dict[Any, set[Decimal]] = defaultdict(set)
    for r in ix.of_type("invoice.posted"):
        owed[p(r).invoice_id].add(p(r).totals.grand_total)
    for r in ix.of_type("invoice.paid"):
        owed[p(r).invoice_id].add(p(r).balance_due)
    for r in ix.of_type("invoice.credited", "invoice.credit_applied"):
        owed[p(r).invoice_id].add(p(r).invoice_balance_due)
    levels: dict[tuple[Any, int], int] = defaultdict(int)
    for r in ix.of_type("invoice.dunning"):
        reminder = p(r)
        res.checked += 1
        levels[(reminder.invoice_id, reminder.level)] += 1
        if reminder.amount_due <= 0:
            res.fail(f"{reminder.invoice_number} level {reminder.level} asks for nothing")
        elif reminder.amount_due not in owed[reminder.invoice_id]:
            res.fail(
                f"{reminder.invoice_number} level {reminder.level} asks {reminder.amount_due}, "
                f"a balance it never had ({sorted(owed[reminder.invoice_id])})"
            )
    for (invoice_id, level), count in sorted(levels.items(), key=str):
        if count > 1:
            res.fail(f"invoice {invoice_id} got reminder level {level} {count} times")
    res.counts["reminders"] = res.checked
    res.counts["overdue"] = len(ix.of_type("invoice.overdue"))
    return res


def base_amounts_by_the_rule(ix: Index) -> Result:
    res = Result(
        "base_amounts_by_the_rule",
        "every base total is round(rate x total) in the base currency (contracts.money)",
    )
    for r in ix.of_type(*_DOCUMENTS):
        document = p(r)
        base = document.base
        if base is None:
            continue
        res.checked += 1
        for name in _TOTALS:
            want = convert(getattr(document.totals, name), base.exchange_rate, base.base_currency)
            got = getattr(base.totals, name)
            if got != want:
                res.fail(
                    f"{r.env.event_type if r.env else '?'} {r.key}: base {name} {got}, "
                    f"want {want} ({base.exchange_rate} x {getattr(document.totals, name)})"
                )
    return res


# The events only a time rule publishes (besides quote.closed with status expired).
_TIME_RULE_EVENTS = (
    "invoice.overdue",
    "invoice.dunning",
    "order.handoff_stale",
    "invoice.handoff_stale",
)


def _subject(event_type: str, payload: Any) -> tuple[Any, ...]:
    """What a time rule acts on once: a quote, an invoice, a reminder level, a hand-off."""
    if event_type == "quote.closed":
        return (payload.quote_id,)
    if event_type == "invoice.dunning":
        return (payload.invoice_id, payload.level)
    if event_type == "invoice.overdue":
        return (payload.invoice_id,)
    if event_type == "order.handoff_stale":
        return (payload.order_id,)
    return (payload.external_invoice_id,)


def not_due(
    event_type: str, payload: Any, at: datetime, valid_until: dict[UUID, date | None]
) -> str | None:
    """Why the rule was not due as of the tick at `at` (None: it was)."""
    day = at.date()
    if event_type == "quote.closed":
        until = valid_until.get(payload.quote_id)
        if until is not None and day <= until:
            return f"expired by a tick of {day}, valid until {until}"
        return None
    if event_type in ("invoice.overdue", "invoice.dunning"):
        if payload.as_of != day:
            return f"as of {payload.as_of}, its tick's day is {day}"
        past = days_past_due(payload.due_date, day)
        if payload.days_overdue != past:
            return f"{payload.days_overdue} days overdue, {past} by its tick"
        if event_type == "invoice.overdue" and not is_overdue(
            payload.due_date, day, payload.grace_days
        ):
            return f"overdue on {day}, due {payload.due_date} with {payload.grace_days} days' grace"
        if event_type == "invoice.dunning" and past < payload.level_days:
            return f"level {payload.level} ({payload.level_days} days) after {past} days"
        return None
    if payload.as_of != at:
        return f"as of {payload.as_of}, its tick says {at}"
    if at - payload.waiting_since < timedelta(hours=payload.threshold_hours):
        return f"stale after {at - payload.waiting_since}, limit {payload.threshold_hours} h"
    return None


def time_rules_on_the_tick(ix: Index) -> Result:
    res = Result(
        "time_rules_on_the_tick",
        "every effect of a time rule (quote expired, invoice overdue, reminder, stale hand-off) "
        "was decided by a tick of the run, stamped with the tick's time, due as of it, and "
        "fired once, whatever the clock of the worker that decided it",
    )
    ticks = {r.env.event_id: p(r).at for r in ix.of_type("clock.ticked") if r.env is not None}
    valid_until = {q.quote_id: q.valid_until for q in ix.h.db.quotes}
    expired = [r for r in ix.of_type("quote.closed") if p(r).status == QuoteCloseStatus.EXPIRED]
    fired: Counter[tuple[Any, ...]] = Counter()
    for r in [*expired, *ix.of_type(*_TIME_RULE_EVENTS)]:
        env = r.env
        assert env is not None
        res.checked += 1
        subject = (env.event_type, *_subject(env.event_type, env.payload))
        fired[subject] += 1
        what = " ".join(str(part) for part in subject)
        at = ticks.get(env.causation_id) if env.causation_id is not None else None
        if at is None:
            res.fail(f"{what} was not decided on a tick of the run ({env.causation_id})")
            continue
        if env.occurred_at != at:
            res.fail(f"{what} stamped {env.occurred_at.isoformat()}, its tick {at.isoformat()}")
        problem = not_due(env.event_type, env.payload, at, valid_until)
        if problem:
            res.fail(f"{what}: not due: {problem}")
    for subject, count in sorted(fired.items(), key=str):
        if count > 1:
            res.fail(f"{' '.join(str(part) for part in subject)} fired {count} times")
    res.counts["ticks"] = len(ticks)
    res.counts["quotes_expired"] = len(expired)
    return res
