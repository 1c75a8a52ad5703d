"""An order's legal transitions, as order_svc makes them: shipped or cancelled only after its
confirmation, only the unshipped remainder of a partly shipped order cancelled, the ERP's
answers (Acknowledged, RefusedByErp, resubmitted) in a legal order, and final rows in a state
order_svc has that agrees with the events. Part of `chaos.business.legal_transitions`.

Events are compared by their first copy; events of one order on different topics by their
timestamps (`Rec.timestamp_ms`).
"""

from __future__ import annotations

from decimal import Decimal

from chaos.checker import Index, Result, p
from chaos.history import Rec

ZERO = Decimal(0)
# order_svc's order states (its domain's OrderState; the fault harness reaches services only
# over Kafka and SQL, so tests/chaos holds the two equal). A row in any other is a bug.
ORDER_STATES = frozenset(
    {"submitted", "acknowledged", "refused_by_erp", "fulfilled", "canceled", "invoiced"}
)


def order_transitions(ix: Index, res: Result) -> None:
    _shipped_and_cancelled(ix, res)
    _erp_answers(ix, res)
    _order_rows(ix, res)


def _after(later: Rec, earlier: Rec) -> bool:
    return later.timestamp_ms >= earlier.timestamp_ms


def _shipped_and_cancelled(ix: Index, res: Result) -> None:
    confirmed = {p(r).order_id: r for r in ix.of_type("order.confirmed")}
    cancelled = {p(r).order_id: r for r in ix.of_type("order.cancelled")}
    rows = {o.order_id: o for o in ix.h.db.orders}
    for r in ix.of_type("order.fulfilled", "order.cancelled"):
        res.checked += 1
        origin = confirmed.get(p(r).order_id)
        if origin is None or not _after(r, origin):
            res.fail(f"{r.topic} for order {p(r).order_id} without (or before) order.confirmed")
    # Only the unshipped remainder of a partly shipped order can be cancelled; the cancellation
    # says what had shipped.
    shipped = ix.grouped(ix.of_type("order.fulfilled"), lambda r: p(r).order_id)
    for order_id, cancel in cancelled.items():
        shipments = shipped.get(order_id, [])
        for r in shipments:
            if p(r).completeness.value == "complete":
                res.fail(f"order {order_id} both fulfilled in full and cancelled")
            if not _after(cancel, r):
                res.fail(f"order {order_id} shipped after it was cancelled")
        before: dict[int, Decimal] = {}
        for r in shipments:
            for line in p(r).lines:
                total = max(before.get(line.line_no, ZERO), line.quantity_shipped_total)
                before[line.line_no] = total
        said = {x.line_no: x.quantity_shipped_total for x in p(cancel).lines}
        if {n: q for n, q in said.items() if q} != {n: q for n, q in before.items() if q}:
            res.fail(f"order {order_id} cancelled saying {said} shipped, shipments say {before}")
    for order_id, row in rows.items():
        if (row.state == "canceled") != (order_id in cancelled):
            res.fail(f"order {order_id}: row {row.state}, cancelled event {order_id in cancelled}")


_ERP_ANSWERS = ("order.acknowledged", "order.refused", "order.resubmitted")


def _strictly_after(later: Rec, earlier: Rec) -> bool:
    return later.timestamp_ms > earlier.timestamp_ms


def _erp_answers(ix: Index, res: Result) -> None:
    """The ERP's answers to an order (order_svc: Acknowledged, RefusedByErp, and a refused order
    resubmitted back to Submitted) come after its confirmation; a resubmission only after a
    refusal; no refusal after an acknowledgement or a cancellation, no shipment while refused.

    The answers travel on three topics, so their order is their timestamps'; two in the same
    millisecond could be either way round and are never held against each other."""
    confirmed = {p(r).order_id: r for r in ix.of_type("order.confirmed")}
    cancelled = {p(r).order_id: r for r in ix.of_type("order.cancelled")}
    shipped = ix.grouped(ix.of_type("order.fulfilled"), lambda r: p(r).order_id)
    for order_id, events in ix.grouped(ix.of_type(*_ERP_ANSWERS), lambda r: p(r).order_id).items():
        origin = confirmed.get(order_id)
        for r in events:
            res.checked += 1
            if origin is None or not _after(r, origin):
                res.fail(f"{r.topic} for order {order_id} without (or before) order.confirmed")
        refusals = [r for r in events if r.topic == "order.refused"]
        acks = [r for r in events if r.topic == "order.acknowledged"]
        for r in events:
            if r.topic == "order.resubmitted" and not any(_after(r, x) for x in refusals):
                res.fail(f"order {order_id} resubmitted without a refusal before")
        cancel = cancelled.get(order_id)
        for refusal in refusals:
            if any(_strictly_after(refusal, ack) for ack in acks):
                res.fail(f"order {order_id} refused after the ERP acknowledged it")
            if cancel is not None and _strictly_after(refusal, cancel):
                res.fail(f"order {order_id} refused after it was cancelled")
            cleared = [r for r in events if r.topic != "order.refused" and _after(r, refusal)]
            for shipment in shipped.get(order_id, []):
                if _strictly_after(shipment, refusal) and not any(
                    _after(shipment, r) for r in cleared
                ):
                    res.fail(f"order {order_id} shipped while the ERP's refusal was pending")


def _order_rows(ix: Index, res: Result) -> None:
    """An order row is in one of order_svc's states; Acknowledged or RefusedByErp only with
    their events; RefusedByErp exactly while its last answer is a refusal (unless cancelled)."""
    answers = ix.grouped(ix.of_type(*_ERP_ANSWERS), lambda r: p(r).order_id)
    for row in ix.h.db.orders:
        res.checked += 1
        events = answers.get(row.order_id, [])
        if row.state not in ORDER_STATES:
            res.fail(f"order {row.order_id}: row in state {row.state!r}, not one of order_svc's")
        if row.state == "acknowledged" and not any(r.topic == "order.acknowledged" for r in events):
            res.fail(f"order {row.order_id}: row acknowledged, no order.acknowledged")
        refusals = [r for r in events if r.topic == "order.refused"]
        if row.state == "refused_by_erp" and not refusals:
            res.fail(f"order {row.order_id}: row refused_by_erp, no order.refused")
        if refusals and row.state != "canceled":
            last = max(refusals, key=lambda r: r.timestamp_ms)
            answered = [r for r in events if r.topic != "order.refused"]
            pending = all(_strictly_after(last, r) for r in answered)
            if pending != (row.state == "refused_by_erp"):
                res.fail(
                    f"order {row.order_id}: row {row.state}, the ERP's last answer "
                    f"{'a refusal' if pending else 'not a refusal'}"
                )
