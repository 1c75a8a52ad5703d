"""The business invariants: one effect per deal step, totals to the cent, legal transitions.

Events are compared by their first copy (a relay re-send or a re-published duplicate carries the
same event id); "distinct" below always means distinct event ids.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

from chaos.checker import Index, Result, p
from chaos.history import TOTAL_FIELDS, Rec, Totals

ZERO = Decimal(0)


def _totals(payload_totals: Any) -> Totals:
    return tuple(Decimal(getattr(payload_totals, f)) for f in TOTAL_FIELDS)  # type: ignore[return-value]


def _deals(ix: Index) -> list[str]:
    """The deals the driver started (one lead.captured each)."""
    return sorted({r.env.deal_id for r in ix.of_type("lead.captured") if r.env is not None})


def leads_decided_once(ix: Index) -> Result:
    res = Result(
        "lead_decided_once",
        "every captured lead is decided exactly once (qualified or disqualified), as its row says",
    )
    decisions = ix.grouped(
        ix.of_type("lead.qualified", "lead.disqualified"), lambda r: p(r).lead_id
    )
    for deal in _deals(ix):
        res.checked += 1
        found = decisions.get(deal, [])
        if len(found) != 1:
            res.fail(f"lead {deal}: {len(found)} decisions {[r.topic for r in found]}")
            continue
        row = ix.h.db.leads.get(deal)
        want = found[0].topic.removeprefix("lead.")
        if row is None or row.state != want:
            res.fail(f"lead {deal}: row is {row.state if row else 'absent'}, event says {want}")
    return res


def opportunity_per_qualified_lead(ix: Index) -> Result:
    res = Result(
        "opportunity_per_qualified_lead",
        "every qualified lead has exactly one opportunity (the one lead.qualified names); "
        "no other lead has one",
    )
    qualified = {p(r).lead_id: p(r).opportunity_id for r in ix.of_type("lead.qualified")}
    opportunities = defaultdict(list)
    for o in ix.h.db.opportunities:
        opportunities[o.lead_id].append(o.opportunity_id)
    for deal in _deals(ix):
        res.checked += 1
        found = opportunities.get(deal, [])
        if deal in qualified:
            if found != [qualified[deal]]:
                res.fail(
                    f"qualified lead {deal}: opportunities {found}, expected {qualified[deal]}"
                )
        elif found:
            res.fail(f"lead {deal} was not qualified but has opportunities {found}")
    return res


def order_per_accepted_quote(ix: Index) -> Result:
    res = Result(
        "order_per_accepted_quote",
        "every accepted quote has exactly one order (row and order.confirmed); one accepted quote "
        "per opportunity; no order without an accepted quote",
    )
    accepted = ix.grouped(ix.of_type("quote.accepted"), lambda r: p(r).quote_id)
    per_opportunity = ix.grouped(ix.of_type("quote.accepted"), lambda r: p(r).opportunity_id)
    confirmed = ix.grouped(ix.of_type("order.confirmed"), lambda r: p(r).quote_id)
    rows = defaultdict(list)
    for o in ix.h.db.orders:
        rows[o.quote_id].append(o)
    for opportunity, quotes in per_opportunity.items():
        if len(quotes) > 1:
            res.fail(f"opportunity {opportunity}: {len(quotes)} accepted quotes")
    for quote_id, events in accepted.items():
        res.checked += 1
        if len(events) != 1:
            res.fail(f"quote {quote_id}: accepted {len(events)} times")
        if len(rows.get(quote_id, [])) != 1:
            res.fail(f"accepted quote {quote_id}: {len(rows.get(quote_id, []))} order rows")
        if len(confirmed.get(quote_id, [])) != 1:
            res.fail(
                f"accepted quote {quote_id}: {len(confirmed.get(quote_id, []))} order.confirmed"
            )
    for quote_id in set(rows) | set(confirmed):
        if quote_id not in accepted:
            res.fail(f"an order exists for quote {quote_id}, which was never accepted")
    return res


def invoice_per_confirmed_order(ix: Index) -> Result:
    res = Result(
        "invoice_per_confirmed_order",
        "native invoicing: every confirmed order has exactly one invoice; a cancelled order has "
        "none (never posted, or cancelled; a paid one is kept and counted)",
    )
    confirmed = ix.grouped(ix.of_type("order.confirmed"), lambda r: p(r).order_id)
    cancelled = {p(r).order_id for r in ix.of_type("order.cancelled")}
    posted = ix.grouped(ix.of_type("invoice.posted"), lambda r: p(r).order_id)
    rows = defaultdict(list)
    for i in ix.h.db.invoices:
        rows[i.order_id].append(i)
    kept_paid = 0
    for order_id in confirmed:
        res.checked += 1
        invoices, events = rows.get(order_id, []), posted.get(order_id, [])
        if len(invoices) > 1 or len(events) > 1:
            res.fail(
                f"order {order_id}: {len(invoices)} invoice rows, {len(events)} invoice.posted"
            )
        elif order_id in cancelled:
            for invoice in invoices:
                if invoice.state == "canceled":
                    continue
                if invoice.amount_paid > ZERO:
                    kept_paid += 1
                else:
                    res.fail(f"cancelled order {order_id} keeps {invoice.state} invoice")
        elif ix.h.native_invoicing and (len(invoices) != 1 or len(events) != 1):
            res.fail(
                f"order {order_id}: {len(invoices)} invoice rows, {len(events)} invoice.posted"
            )
    for order_id in set(rows) | set(posted):
        if order_id not in confirmed:
            res.fail(f"an invoice exists for order {order_id}, which was never confirmed")
    res.counts["cancelled_orders"] = len(cancelled)
    res.counts["paid_invoices_kept_for_cancelled_orders"] = kept_paid
    return res


def _line_problems(where: str, lines: Any, totals: Any) -> list[str]:
    problems = []
    sums = dict.fromkeys(TOTAL_FIELDS, ZERO)
    for line in lines:
        if line.net_amount != line.base_amount - line.discount_amount:
            problems.append(f"{where} line {line.line_no}: net != base - discount")
        if line.total_amount != line.net_amount + line.tax_amount:
            problems.append(f"{where} line {line.line_no}: total != net + tax")
        sums["subtotal"] += line.base_amount
        sums["discount_total"] += line.discount_amount
        sums["net_total"] += line.net_amount
        sums["tax_total"] += line.tax_amount
        sums["grand_total"] += line.total_amount
    for name, value in sums.items():
        if getattr(totals, name) != value:
            problems.append(f"{where}: {name} {getattr(totals, name)} != sum of lines {value}")
    return problems


def totals_to_the_cent(ix: Index) -> Result:
    res = Result(
        "totals_to_the_cent",
        "quote, order and invoice totals are equal to the cent along each deal (events and rows), "
        "each the sum of its rounded lines; payments add up to amount paid and balance due",
    )
    accepted = {p(r).quote_id: r for r in ix.of_type("quote.accepted")}
    quote_rows = {q.quote_id: q for q in ix.h.db.quotes}
    order_rows = {o.order_id: o for o in ix.h.db.orders}
    invoice_rows = {i.order_id: i for i in ix.h.db.invoices}
    posted = {p(r).order_id: r for r in ix.of_type("invoice.posted")}
    for r in ix.of_type("order.confirmed"):
        res.checked += 1
        order = p(r)
        documents = [("order.confirmed", order)]
        if order.quote_id in accepted:
            documents.append(("quote.accepted", p(accepted[order.quote_id])))
        if order.order_id in posted:
            documents.append(("invoice.posted", p(posted[order.order_id])))
        chain: dict[str, Totals] = {where: _totals(doc.totals) for where, doc in documents}
        rows = (
            ("quote row", quote_rows.get(order.quote_id)),
            ("order row", order_rows.get(order.order_id)),
            ("invoice row", invoice_rows.get(order.order_id)),
        )
        chain.update((where, row.totals) for where, row in rows if row is not None)
        if len(set(chain.values())) != 1:
            res.fail(f"deal {r.key}: totals differ along the deal: {chain}")
        for where, document in documents:
            for problem in _line_problems(f"deal {r.key} {where}", document.lines, document.totals):
                res.fail(problem)
    paid_events = ix.grouped(ix.of_type("invoice.paid"), lambda r: p(r).invoice_id)
    payments: dict[UUID, Decimal] = defaultdict(Decimal)
    for row in ix.h.db.payments:
        payments[row.invoice_id] += row.amount
    for invoice in ix.h.db.invoices:
        res.checked += 1
        by_event = sum((p(e).amount for e in paid_events.get(invoice.invoice_id, [])), ZERO)
        if not invoice.amount_paid == payments.get(invoice.invoice_id, ZERO) == by_event:
            res.fail(
                f"invoice {invoice.invoice_id}: amount_paid {invoice.amount_paid}, payment rows "
                f"{payments.get(invoice.invoice_id, ZERO)}, invoice.paid events {by_event}"
            )
        if (
            invoice.state != "canceled"
            and invoice.balance_due != invoice.totals[4] - invoice.amount_paid
        ):
            res.fail(f"invoice {invoice.invoice_id}: balance_due {invoice.balance_due} is wrong")
    return res


def _after(later: Rec, earlier: Rec) -> bool:
    return later.timestamp_ms >= earlier.timestamp_ms


def _causal_order(ix: Index, res: Result) -> None:
    for r in ix.first.values():
        assert r.env is not None
        cause = ix.first.get(r.env.causation_id) if r.env.causation_id else None
        if cause is not None and not _after(r, cause):
            res.fail(f"{r.env.event_type} of deal {r.key} is stamped before its cause")


def _quotes(ix: Index, res: Result) -> None:
    issued = ix.grouped(ix.of_type("quote.issued"), lambda r: p(r).quote_number)
    closed = {
        (p(r).quote_number, p(r).revision): p(r).status.value for r in ix.of_type("quote.closed")
    }
    accepted = ix.grouped(ix.of_type("quote.accepted"), lambda r: p(r).quote_number)
    for number, events in issued.items():
        res.checked += 1
        in_log_order = [p(r).revision for r in sorted(events, key=lambda r: r.offset)]
        if in_log_order != list(range(1, len(events) + 1)):
            res.fail(f"quote {number}: revisions issued in the order {in_log_order}")
        last = max(in_log_order)
        for revision in in_log_order[:-1]:
            if closed.get((number, revision)) != "revised":
                res.fail(f"quote {number} rev {revision} superseded without quote.closed revised")
        for a in accepted.get(number, []):
            if p(a).revision != last:
                res.fail(f"quote {number}: rev {p(a).revision} accepted, rev {last} is current")
            issued_rev = [r for r in events if p(r).revision == p(a).revision]
            if issued_rev and not _after(a, issued_rev[0]):
                res.fail(f"quote {number}: accepted before it was issued")
            if (number, p(a).revision) in closed:
                res.fail(f"quote {number}: accepted and closed")


def _orders(ix: Index, res: Result) -> None:
    confirmed = {p(r).order_id: r for r in ix.of_type("order.confirmed")}
    cancelled = {p(r).order_id: r for r in ix.of_type("order.cancelled")}
    rows = {o.order_id: o for o in ix.h.db.orders}
    for r in ix.of_type("order.fulfilled", "order.cancelled"):
        res.checked += 1
        origin = confirmed.get(p(r).order_id)
        if origin is None or not _after(r, origin):
            res.fail(f"{r.topic} for order {p(r).order_id} without (or before) order.confirmed")
    for r in ix.of_type("order.fulfilled"):
        if p(r).order_id in cancelled:
            res.fail(f"order {p(r).order_id} both fulfilled and cancelled")
    for order_id, row in rows.items():
        if (row.state == "canceled") != (order_id in cancelled):
            res.fail(f"order {order_id}: row {row.state}, cancelled event {order_id in cancelled}")


def _invoices(ix: Index, res: Result) -> None:
    posted = {p(r).invoice_id: r for r in ix.of_type("invoice.posted")}
    cancelled = {p(r).invoice_id: r for r in ix.of_type("invoice.cancelled")}
    paid = ix.grouped(ix.of_type("invoice.paid"), lambda r: p(r).invoice_id)
    for invoice_id, events in paid.items():
        res.checked += 1
        origin = posted.get(invoice_id)
        if origin is None:
            res.fail(f"invoice {invoice_id} paid but never posted")
            continue
        grand = origin.env.payload.totals.grand_total if origin.env else ZERO
        total = ZERO
        for n, e in enumerate(sorted(events, key=lambda r: r.offset)):
            pay = p(e)
            total += pay.amount
            if not _after(e, origin):
                res.fail(f"invoice {invoice_id}: paid before it was posted")
            if pay.amount_paid_total != total or pay.balance_due != grand - total:
                res.fail(f"invoice {invoice_id} payment {n + 1}: running totals out of order")
            if (pay.status.value == "complete") != (pay.balance_due == ZERO):
                res.fail(
                    f"invoice {invoice_id}: status {pay.status.value} at balance {pay.balance_due}"
                )
            if invoice_id in cancelled and _after(e, cancelled[invoice_id]):
                res.fail(f"invoice {invoice_id}: paid after it was cancelled")
        if invoice_id in cancelled and any(_after(cancelled[invoice_id], e) for e in events):
            res.fail(f"invoice {invoice_id}: cancelled after a payment")
    for row in ix.h.db.invoices:
        if (row.state == "canceled") != (row.invoice_id in cancelled):
            said = "an" if row.invoice_id in cancelled else "no"
            res.fail(f"invoice {row.invoice_id}: row {row.state}, {said} invoice.cancelled")
        if row.invoice_id in paid and row.state not in ("paid", "canceled"):
            res.fail(f"invoice {row.invoice_id}: payments recorded but the row is {row.state}")


def legal_transitions(ix: Index) -> Result:
    res = Result(
        "legal_transitions",
        "only legal state transitions, in per-deal order: no effect before its cause, quote "
        "revisions in sequence, no order step before confirmation, payments in running order, "
        "final rows agree with the events",
    )
    _causal_order(ix, res)
    _quotes(ix, res)
    _orders(ix, res)
    _invoices(ix, res)
    return res
