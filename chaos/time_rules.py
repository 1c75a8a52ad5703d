"""The invariants of time and money across currencies, over a `History` after quiescence.

- no Active quote is past its validity after a tick: as of the latest tick of the run, every
  quote still Active is valid on that tick's day (quote_svc expires the others on the tick);
- each reminder level at most once per invoice, and never after payment: one `invoice.dunning`
  event per (invoice, level), and every reminder asks for money the invoice really still owed at
  some point (its amount due is the posted total or a balance one of its own payment or credit
  events announced, and never zero). Checked on amounts rather than on publication times: two
  workers' relays may publish in another order than they committed;
- base amounts by the rule: on every document that carries them, each base total is
  round(rate x total) in the base currency (`contracts.money.convert`).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from chaos.checker import Index, Result, p
from contracts.money import convert

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
