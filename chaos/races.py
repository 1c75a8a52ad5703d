"""Commands for one deal that raced each other: published at the same moment by two producer
clients (`simulator.publisher`, the driver's two publishers), so the broker decided their order.

Whichever won, the end state must be one accounting accepts:

- accept and reject of one quote: exactly one took effect (quote.accepted, or quote.closed as
  lost), the other was refused once (`quote.rejected`, not open or already won), never both and
  never neither;
- two payments with the same payment id on one invoice (a payer's retry from another client):
  one invoice.paid and one payment row, the other a no-op (no refusal, no second effect);
- a cancellation and the payment of the order's invoice: both apply, in either order; the money
  ends as customer credit announced by refund.due, which `chaos.billing.cancelled_orders_credited`
  checks for every cancelled order (here they are only counted).

Events are compared by their first copy (`Index.first`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from chaos.checker import Index, Result, p

# How far apart two commands of a cancel-and-pay race were published (they go out together).
RACE_WINDOW_MS = 1000
LOSER_REASONS = frozenset({"not_open", "already_won"})


def _by_cause(ix: Index, *event_types: str) -> dict[UUID, list[Any]]:
    found: dict[UUID, list[Any]] = defaultdict(list)
    for r in ix.of_type(*event_types):
        if r.env is not None and r.env.causation_id is not None:
            found[r.env.causation_id].append(r)
    return found


def races_decided_once(ix: Index) -> Result:
    res = Result(
        "races_decided_once",
        "commands of one deal published at once by two producers: of an accept and a reject of "
        "one quote exactly one takes effect and the other is refused once; of two payments "
        "with one payment id exactly one is applied and the other changes nothing; a "
        "cancellation and a payment both apply (the money then owed back: "
        "cancelled_orders_credited)",
    )
    counts: dict[str, float] = defaultdict(float)
    _accept_or_reject(ix, res, counts)
    _same_payment_id(ix, res, counts)
    _cancel_and_pay(ix, counts)
    res.counts = dict(counts)
    return res


def _accept_or_reject(ix: Index, res: Result, counts: dict[str, float]) -> None:
    per_quote = ix.grouped(ix.of_type("quote.accept", "quote.reject"), lambda r: p(r).quote_id)
    accepted = _by_cause(ix, "quote.accepted")
    closed = _by_cause(ix, "quote.closed")
    refusals: dict[UUID, list[Any]] = defaultdict(list)
    for r in ix.of_type("quote.rejected"):
        refusals[p(r).command_event_id].append(r)
    for quote_id, commands in per_quote.items():
        kinds = {r.env.event_type for r in commands if r.env is not None}
        if kinds != {"quote.accept", "quote.reject"}:
            continue
        res.checked += 1
        counts["accept_reject"] += 1
        effects: list[tuple[Any, Any]] = []
        for command in commands:
            assert command.env is not None
            found = (accepted if command.env.event_type == "quote.accept" else closed).get(
                command.env.event_id, []
            )
            effects.extend((command, e) for e in found)
        if len(effects) != 1:
            res.fail(f"quote {quote_id}: {len(effects)} of the racing accept/reject took effect")
            continue
        winner, _ = effects[0]
        counts["accept_won" if _is_accept(winner) else "reject_won"] += 1
        for command in commands:
            assert command.env is not None
            refused = refusals.get(command.env.event_id, [])
            if command is winner:
                if refused:
                    res.fail(f"quote {quote_id}: the winning {command.env.event_type} was refused")
            elif len(refused) != 1 or p(refused[0]).reason_code not in LOSER_REASONS:
                reasons = [p(x).reason_code for x in refused]
                res.fail(
                    f"quote {quote_id}: the losing {command.env.event_type} was answered by "
                    f"{len(refused)} refusals {reasons}"
                )


def _is_accept(command: Any) -> bool:
    return bool(command.env is not None and command.env.event_type == "quote.accept")


def _same_payment_id(ix: Index, res: Result, counts: dict[str, float]) -> None:
    payments = ix.of_type("invoice.record_payment")
    per_id = ix.grouped(payments, lambda r: p(r).payment_id)
    paid = ix.grouped(ix.of_type("invoice.paid"), lambda r: p(r).payment_id)
    refusals: dict[UUID, list[Any]] = defaultdict(list)
    for r in ix.of_type("invoice.rejected"):
        refusals[p(r).command_event_id].append(r)
    rows: dict[str, int] = defaultdict(int)
    for row in ix.h.db.payments:
        rows[row.payment_id] += 1
    for payment_id, commands in per_id.items():
        if len(commands) < 2:
            continue
        res.checked += 1
        counts["same_payment_id"] += 1
        ids = {c.env.event_id for c in commands if c.env is not None}
        applied = paid.get(payment_id, [])
        if len(applied) != 1 or rows.get(payment_id, 0) != 1:
            res.fail(
                f"payment {payment_id} sent {len(commands)} times: {len(applied)} invoice.paid, "
                f"{rows.get(payment_id, 0)} payment rows"
            )
        elif applied[0].env is None or applied[0].env.causation_id not in ids:
            res.fail(f"payment {payment_id}: invoice.paid caused by none of its commands")
        refused = [x for i in ids for x in refusals.get(i, [])]
        if refused:
            reasons = [p(x).reason_code for x in refused]
            res.fail(f"payment {payment_id} sent again was refused {reasons}, not a no-op")


def _cancel_and_pay(ix: Index, counts: dict[str, float]) -> None:
    """Counted only: orders whose cancellation went out with a payment of one of their
    invoices (published within RACE_WINDOW_MS of each other)."""
    invoice_order = {p(r).invoice_id: p(r).order_id for r in ix.of_type("invoice.posted")}
    paid_at: dict[UUID, list[int]] = defaultdict(list)
    for r in ix.of_type("invoice.record_payment"):
        order_id = invoice_order.get(p(r).invoice_id)
        if order_id is not None:
            paid_at[order_id].append(r.timestamp_ms)
    for r in ix.of_type("order.cancel"):
        paid = paid_at.get(p(r).order_id, [])
        if any(abs(t - r.timestamp_ms) <= RACE_WINDOW_MS for t in paid):
            counts["cancel_and_pay"] += 1
