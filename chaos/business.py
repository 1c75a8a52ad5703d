"""The business invariants: one effect per deal step, totals to the cent, legal transitions
(an order's: `chaos.orders`; billing and money: `chaos.billing`).

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
from chaos.orders import order_transitions

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
        "quote, order and invoice_svc's copy of the order have equal totals to the cent along "
        "each deal (events and rows); every quote, order, invoice and credit note is the sum of "
        "its rounded lines; the invoices that bill an order line in full add up to it; rows "
        "agree with events; payments add up to amount paid, credit notes to amount credited, "
        "and balance due = total - credited - paid - credit applied + moved to credit, >= 0",
    )
    db = ix.h.db
    accepted = {p(r).quote_id: r for r in ix.of_type("quote.accepted")}
    rows_of = (
        ("quote row", {q.quote_id: q for q in db.quotes}, "quote_id"),
        ("order row", {o.order_id: o for o in db.orders}, "order_id"),
        ("invoice_svc order row", {o.order_id: o for o in db.billed_orders}, "order_id"),
    )
    posted = ix.grouped(ix.of_type("invoice.posted"), lambda r: p(r).order_id)
    for r in ix.of_type("order.confirmed"):
        res.checked += 1
        order = p(r)
        documents = [("order.confirmed", order)]
        if order.quote_id in accepted:
            documents.append(("quote.accepted", p(accepted[order.quote_id])))
        chain: dict[str, Totals] = {where: _totals(doc.totals) for where, doc in documents}
        for where, found, key in rows_of:
            row = found.get(getattr(order, key))
            if row is not None:
                chain[where] = row.totals
        if len(set(chain.values())) != 1:
            res.fail(f"deal {r.key}: totals differ along the deal: {chain}")
        for where, document in documents:
            for problem in _line_problems(f"deal {r.key} {where}", document.lines, document.totals):
                res.fail(problem)
        standard = [p(e) for e in posted.get(order.order_id, []) if p(e).kind.value == "standard"]
        for problem in _pieces_add_up(order, standard):
            res.fail(f"deal {r.key}: {problem}")
    for r in ix.of_type("invoice.posted", "invoice.credited"):
        res.checked += 1
        where = f"deal {r.key} {r.env.event_type if r.env else ''} {p(r).invoice_number}"
        for problem in _line_problems(where, p(r).lines, p(r).totals):
            res.fail(problem)
    _rows_agree(ix, res)
    _money_adds_up(ix, res)
    return res


def _pieces_add_up(order: Any, invoices: list[Any]) -> list[str]:
    """The invoices' pieces of each order line, once they bill it in full, are the line."""
    problems = []
    billed: dict[int, list[Any]] = defaultdict(list)
    for invoice in invoices:
        for line in invoice.lines:
            billed[line.line_no].append(line)
    for line in order.lines:
        pieces = billed.get(line.line_no, [])
        if sum((x.quantity for x in pieces), ZERO) != line.quantity:
            continue
        for name in ("base_amount", "discount_amount", "net_amount", "tax_amount"):
            total = sum((getattr(x, name) for x in pieces), ZERO)
            if total != getattr(line, name):
                problems.append(
                    f"line {line.line_no} billed in full: {name} {total} != {getattr(line, name)}"
                )
    return problems


def _rows_agree(ix: Index, res: Result) -> None:
    invoices = {i.invoice_id: i for i in ix.h.db.invoices}
    notes = {n.credit_note_id: n for n in ix.h.db.credit_notes}
    for r in ix.of_type("invoice.posted"):
        row = invoices.get(p(r).invoice_id)
        if row is not None and row.totals != _totals(p(r).totals):
            res.fail(f"invoice {row.invoice_id}: row totals {row.totals} != invoice.posted")
    for r in ix.of_type("invoice.credited"):
        note = notes.get(p(r).credit_note_id)
        if note is not None and note.totals != _totals(p(r).totals):
            res.fail(f"credit note {note.credit_note_id}: row totals != invoice.credited")


def _money_adds_up(ix: Index, res: Result) -> None:
    db = ix.h.db
    paid_events = ix.grouped(ix.of_type("invoice.paid"), lambda r: p(r).invoice_id)
    payments: dict[UUID, Decimal] = defaultdict(Decimal)
    for row in db.payments:
        payments[row.invoice_id] += row.amount
    credited: dict[UUID, Decimal] = defaultdict(Decimal)
    for note in db.credit_notes:
        credited[note.invoice_id] += note.totals[4]
    for invoice in db.invoices:
        res.checked += 1
        by_event = sum((p(e).amount for e in paid_events.get(invoice.invoice_id, [])), ZERO)
        if not invoice.amount_paid == payments.get(invoice.invoice_id, ZERO) == by_event:
            res.fail(
                f"invoice {invoice.invoice_id}: amount_paid {invoice.amount_paid}, payment rows "
                f"{payments.get(invoice.invoice_id, ZERO)}, invoice.paid events {by_event}"
            )
        if invoice.amount_credited != credited.get(invoice.invoice_id, ZERO):
            res.fail(
                f"invoice {invoice.invoice_id}: amount_credited {invoice.amount_credited}, "
                f"credit notes {credited.get(invoice.invoice_id, ZERO)}"
            )
        balance = (
            invoice.totals[4]
            - invoice.amount_credited
            - invoice.amount_paid
            - invoice.credit_applied
            + invoice.moved_to_credit
        )
        if invoice.balance_due != balance or balance < 0:
            res.fail(
                f"invoice {invoice.invoice_id}: balance_due {invoice.balance_due} != {balance}"
            )


def _after(later: Rec, earlier: Rec) -> bool:
    """`later` was published after `earlier`, as the broker's clock tells: it stamps every record
    as it appends it (LogAppendTime, contracts.topics), whatever a producer's clock says. Two
    events one service decided in the same batch (the same producer, the same `now`) went out in
    one produce request, whose partitions the broker appends in no set order: a millisecond
    apart either way, they count as published together."""
    if later.timestamp_ms >= earlier.timestamp_ms:
        return True
    assert later.env is not None and earlier.env is not None
    return (
        later.env.producer == earlier.env.producer
        and later.env.occurred_at == earlier.env.occurred_at
    )


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


def _invoices(ix: Index, res: Result) -> None:
    """Payments in running order on posted invoices; a credit note after its invoice. Paid
    before or after a credit note, even one that credits it in full: both are legal now (the
    money beyond what it asks becomes customer credit)."""
    posted = {p(r).invoice_id: r for r in ix.of_type("invoice.posted")}
    cancelled = {p(r).invoice_id: r for r in ix.of_type("invoice.cancelled")}
    paid = ix.grouped(ix.of_type("invoice.paid"), lambda r: p(r).invoice_id)
    for invoice_id, events in paid.items():
        res.checked += 1
        origin = posted.get(invoice_id)
        if origin is None:
            res.fail(f"invoice {invoice_id} paid but never posted")
            continue
        total = ZERO
        for n, e in enumerate(sorted(events, key=lambda r: r.offset)):
            pay = p(e)
            total += pay.amount
            if not _after(e, origin):
                res.fail(f"invoice {invoice_id}: paid before it was posted")
            if pay.amount_paid_total != total or pay.balance_due < 0:
                res.fail(f"invoice {invoice_id} payment {n + 1}: running totals out of order")
            if (pay.status.value == "complete") != (pay.balance_due <= 0):
                res.fail(
                    f"invoice {invoice_id}: status {pay.status.value} at balance {pay.balance_due}"
                )
    for r in ix.of_type("invoice.credited", "invoice.cancelled"):
        res.checked += 1
        origin = posted.get(p(r).invoice_id)
        if origin is None or not _after(r, origin):
            res.fail(f"{r.topic} for invoice {p(r).invoice_id} without (or before) its posting")
    for row in ix.h.db.invoices:
        if row.invoice_id in cancelled and row.state != "canceled":
            res.fail(f"invoice {row.invoice_id}: invoice.cancelled, but the row is {row.state}")
        # A down payment used up by its deductions is credited in full, not cancelled.
        if row.state == "canceled" and row.kind == "standard" and row.invoice_id not in cancelled:
            res.fail(f"invoice {row.invoice_id}: row canceled, no invoice.cancelled")
        if row.invoice_id in paid and row.state not in ("paid", "canceled"):
            res.fail(f"invoice {row.invoice_id}: payments recorded but the row is {row.state}")


def legal_transitions(ix: Index) -> Result:
    res = Result(
        "legal_transitions",
        "only legal state transitions, in per-deal order: no effect before its cause, quote "
        "revisions in sequence, no order step before confirmation, the ERP's answers in a legal "
        "order (acknowledged, refused, resubmitted), payments in running order, final rows "
        "agree with the events and are in states their service has",
    )
    _causal_order(ix, res)
    _quotes(ix, res)
    order_transitions(ix, res)
    _invoices(ix, res)
    return res
