"""The billing invariants: each order billed as its invoicing policy says and never beyond what
was ordered, cancelled orders credited and the money received on them moved to customer credit,
receivables that balance per account and currency, customer credit never negative, document
numbers without gaps.

Rows are invoice_svc's after quiescence (`chaos.db`); events are compared by their first copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from chaos.checker import Index, Result, p
from chaos.history import InvoiceRow

ZERO = Decimal(0)


def shipped_per_order(ix: Index) -> dict[UUID, dict[int, Decimal]]:
    """What shipped of each order, per line, as order_svc announced it (totals only grow)."""
    shipped: dict[UUID, dict[int, Decimal]] = defaultdict(dict)
    for r in ix.of_type("order.fulfilled", "order.cancelled"):
        lines = shipped[p(r).order_id]
        for line in p(r).lines:
            lines[line.line_no] = max(lines.get(line.line_no, ZERO), line.quantity_shipped_total)
    return shipped


def per_line(pairs: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for line_no, quantity in pairs:
        sums[line_no] += quantity
    return dict(sums)


def billed_by_policy(ix: Index) -> Result:
    res = Result(
        "billed_by_policy",
        "every invoice is posted once, for a confirmed order, row and event alike; natively, a "
        "confirmed order that stays is billed as its invoicing policy says: on order, one "
        "invoice for every line in full; on delivery, what shipped; with a down payment, one "
        "down payment invoice, then what shipped, the down payment used up once all shipped",
    )
    confirmed = {p(r).order_id: p(r) for r in ix.of_type("order.confirmed")}
    cancelled = {p(r).order_id for r in ix.of_type("order.cancelled")}
    posted = ix.grouped(ix.of_type("invoice.posted"), lambda r: p(r).invoice_id)
    rows = defaultdict(list)
    for i in ix.h.db.invoices:
        rows[i.order_id].append(i)
    events = defaultdict(set)
    for invoice_id, copies in posted.items():
        events[p(copies[0]).order_id].add(invoice_id)
        if len(copies) > 1:
            res.fail(f"invoice {invoice_id} posted {len(copies)} times")
    shipped = shipped_per_order(ix)
    for order_id, order in confirmed.items():
        res.checked += 1
        invoices = rows.get(order_id, [])
        if {i.invoice_id for i in invoices} != events.get(order_id, set()):
            res.fail(f"order {order_id}: invoice rows and invoice.posted events differ")
        policy = order.invoicing_policy.value if order.invoicing_policy else ix.h.default_billing
        res.counts[policy] = res.counts.get(policy, 0) + 1
        if not ix.h.native_invoicing or order_id in cancelled:
            continue  # a cancelled order: cancelled_orders_credited
        problem = _policy_problem(policy, order, invoices, shipped.get(order_id, {}))
        if problem:
            res.fail(f"order {order_id} ({policy}): {problem}")
    for order_id in set(rows) | set(events):
        if order_id not in confirmed:
            res.fail(f"an invoice exists for order {order_id}, which was never confirmed")
    res.counts["cancelled_orders"] = len(cancelled)
    return res


def _policy_problem(
    policy: str, order: Any, invoices: list[InvoiceRow], shipped: dict[int, Decimal]
) -> str | None:
    ordered = {line.line_no: line.quantity for line in order.lines}
    standard = [i for i in invoices if i.kind == "standard"]
    down_payments = [i for i in invoices if i.kind == "down_payment"]
    billed = per_line(pair for i in standard for pair in i.lines)
    if policy == "on_order":
        if len(standard) != 1 or billed != ordered or down_payments:
            return f"{len(standard)} invoices billing {billed} of {ordered}"
        return None
    if len(down_payments) != (policy == "down_payment"):
        return f"{len(down_payments)} down payment invoices"
    if billed != {n: q for n, q in shipped.items() if q > 0}:
        return f"billed {billed}, shipped {shipped}"
    full = all(shipped.get(n, ZERO) >= q for n, q in ordered.items())
    if full and any(i.amount_credited != i.totals[4] for i in down_payments):
        return "shipped in full, but its down payment is not used up"
    return None


def _billed_and_credited(
    ix: Index,
) -> tuple[dict[UUID, dict[int, Decimal]], dict[UUID, dict[int, Decimal]]]:
    """Per order, per line: quantities its standard invoices bill, and its credit notes take
    back (rows)."""
    billed = {
        order_id: per_line(pair for i in invoices if i.kind == "standard" for pair in i.lines)
        for order_id, invoices in _invoices_by_order(ix).items()
    }
    notes: dict[UUID, list[tuple[int, Decimal]]] = defaultdict(list)
    for note in ix.h.db.credit_notes:
        notes[note.order_id].extend(note.order_lines)
    credited = {order_id: per_line(pairs) for order_id, pairs in notes.items()}
    return billed, credited


def _invoices_by_order(ix: Index) -> dict[UUID, list[InvoiceRow]]:
    rows: dict[UUID, list[InvoiceRow]] = defaultdict(list)
    for i in ix.h.db.invoices:
        rows[i.order_id].append(i)
    return rows


def billed_within_ordered(ix: Index) -> Result:
    res = Result(
        "billed_within_ordered",
        "no order line is billed beyond the quantity ordered, none credited beyond what was "
        "billed, no invoice bills a line the order does not have, and its down payments ask "
        "no more than the order",
    )
    billed, credited = _billed_and_credited(ix)
    invoices = _invoices_by_order(ix)
    for order in ix.h.db.billed_orders:
        res.checked += 1
        ordered = dict(order.lines)
        for line_no, quantity in billed.get(order.order_id, {}).items():
            if line_no not in ordered:
                res.fail(f"order {order.order_id}: invoiced line {line_no} it does not have")
            elif quantity > ordered[line_no]:
                res.fail(f"order {order.order_id} line {line_no}: billed {quantity} of {ordered}")
        for line_no, quantity in credited.get(order.order_id, {}).items():
            if quantity > billed.get(order.order_id, {}).get(line_no, ZERO):
                res.fail(
                    f"order {order.order_id} line {line_no}: credited {quantity}, more than billed"
                )
        down = sum(
            (i.totals[4] for i in invoices.get(order.order_id, []) if i.kind == "down_payment"),
            ZERO,
        )
        if down > order.totals[4]:
            res.fail(
                f"order {order.order_id}: down payments {down} > the order's {order.totals[4]}"
            )
    return res


def cancelled_orders_credited(ix: Index) -> Result:
    res = Result(
        "cancelled_orders_credited",
        "invoice_svc holds every cancellation order_svc announced; natively, a cancelled order "
        "keeps billed, net of its credit notes, no more than shipped per line, and one cancelled "
        "with nothing shipped has every invoice credited in full, all money received on it "
        "(paid or applied) moved to customer credit and announced as refund due, whichever of "
        "the cancellation and a payment came first",
    )
    announced = {p(r).order_id for r in ix.of_type("order.cancelled")}
    orders = {o.order_id: o for o in ix.h.db.billed_orders}
    for order_id in announced:
        if order_id in orders and orders[order_id].state != "cancelled":
            res.fail(
                f"order {order_id} cancelled, but invoice_svc holds it {orders[order_id].state}"
            )
    billed, credited = _billed_and_credited(ix)
    invoices = _invoices_by_order(ix)
    refunds_due: dict[UUID, Decimal] = defaultdict(Decimal)
    for r in ix.of_type("refund.due"):
        refunds_due[p(r).invoice_id] += p(r).amount
    for order in orders.values():
        if order.state != "cancelled":
            continue
        res.checked += 1
        shipped = dict(order.shipped)
        whole = not any(shipped.values())
        res.counts["nothing_shipped" if whole else "remainder"] = (
            res.counts.get("nothing_shipped" if whole else "remainder", 0) + 1
        )
        if not ix.h.native_invoicing:
            continue
        for line_no, quantity in billed.get(order.order_id, {}).items():
            net = quantity - credited.get(order.order_id, {}).get(line_no, ZERO)
            if net > shipped.get(line_no, ZERO):
                res.fail(
                    f"cancelled order {order.order_id} line {line_no}: billed {net} net of "
                    f"credits, shipped {shipped.get(line_no, ZERO)}"
                )
        if whole:
            for problem in _not_all_credited(invoices.get(order.order_id, []), refunds_due):
                res.fail(f"cancelled order {order.order_id}: {problem}")
    return res


def _not_all_credited(invoices: list[InvoiceRow], refunds_due: dict[UUID, Decimal]) -> list[str]:
    """What is wrong with the invoices of an order cancelled with nothing shipped. The refunds
    due are summed over the order: invoice_svc may announce what several of its invoices freed
    in one refund.due naming one of them."""
    problems = []
    for invoice in invoices:
        received = invoice.amount_paid + invoice.credit_applied
        if invoice.amount_credited != invoice.totals[4]:
            problems.append(
                f"invoice {invoice.invoice_id} credited {invoice.amount_credited} of "
                f"{invoice.totals[4]}"
            )
        elif invoice.moved_to_credit != received or invoice.balance_due != 0:
            problems.append(
                f"invoice {invoice.invoice_id} received {received}, moved "
                f"{invoice.moved_to_credit} to credit, asks {invoice.balance_due}"
            )
    received = sum((i.amount_paid + i.credit_applied for i in invoices), ZERO)
    announced = sum((refunds_due.get(i.invoice_id, ZERO) for i in invoices), ZERO)
    if announced != received:
        problems.append(f"{received} received, refund.due announced {announced}")
    return problems


def receivables_balance(ix: Index) -> Result:
    res = Result(
        "receivables_balance",
        "per account and currency, the receivable entries add up to invoiced - credited - paid "
        "+ refunded (summed from the documents) and to the invoices' balances less the customer "
        "credit; each invoice's entries to its balance due; the entries without an invoice to "
        "minus the customer credit",
    )
    db = ix.h.db
    expected, balances = _from_documents(ix, res)
    credit = {(c.account_id, c.currency): c.balance for c in db.credits}
    total: dict[Any, Decimal] = defaultdict(Decimal)
    held: dict[Any, Decimal] = defaultdict(Decimal)
    per_invoice: dict[UUID, Decimal] = defaultdict(Decimal)
    for e in db.entries:
        total[(e.account_id, e.currency)] += e.amount
        if e.invoice_id is None:
            held[(e.account_id, e.currency)] += e.amount
        else:
            per_invoice[e.invoice_id] += e.amount
    for key in sorted(set(expected) | set(total) | set(credit), key=str):
        res.checked += 1
        account, held_credit = f"account {key[0]} in {key[1]}", credit.get(key, ZERO)
        if total[key] != expected[key]:
            res.fail(
                f"{account}: entries {total[key]} != invoiced - credited - paid + refunded "
                f"{expected[key]}"
            )
        if total[key] != balances[key] - held_credit:
            res.fail(
                f"{account}: entries {total[key]} != balances {balances[key]} - customer credit "
                f"{held_credit}"
            )
        if held[key] != -credit.get(key, ZERO):
            res.fail(
                f"{account}: credit entries {held[key]}, customer credit {credit.get(key, ZERO)}"
            )
    for invoice in db.invoices:
        if per_invoice[invoice.invoice_id] != invoice.balance_due:
            res.fail(
                f"invoice {invoice.invoice_id}: entries {per_invoice[invoice.invoice_id]} != "
                f"balance due {invoice.balance_due}"
            )
    res.counts["outstanding"] = float(sum(total.values(), ZERO))
    res.counts["customer_credit"] = float(sum(credit.values(), ZERO))
    return res


def _from_documents(ix: Index, res: Result) -> tuple[dict[Any, Decimal], dict[Any, Decimal]]:
    """Per (account, currency): invoiced - credited - paid + refunded, summed from the invoice,
    credit note, payment and refund rows; and the sum of the invoices' balances due."""
    db = ix.h.db
    invoices = {i.invoice_id: i for i in db.invoices}
    expected: dict[Any, Decimal] = defaultdict(Decimal)
    balances: dict[Any, Decimal] = defaultdict(Decimal)
    for i in db.invoices:
        expected[(i.account_id, i.currency)] += i.totals[4]
        balances[(i.account_id, i.currency)] += i.balance_due
    settled = [
        (n.invoice_id, n.totals[4], f"credit note {n.credit_note_id}") for n in db.credit_notes
    ]
    settled += [(x.invoice_id, x.amount, f"payment {x.payment_id}") for x in db.payments]
    for invoice_id, amount, what in settled:
        invoice = invoices.get(invoice_id)
        if invoice is None:
            res.fail(f"{what} of an invoice that has no row ({invoice_id})")
        else:
            expected[(invoice.account_id, invoice.currency)] -= amount
    for refund in db.refunds:
        expected[(refund.account_id, refund.currency)] += refund.amount
    return expected, balances


def customer_credit_non_negative(ix: Index) -> Result:
    res = Result(
        "customer_credit_non_negative",
        "no customer credit is ever negative: not after any refund.due, refund or credit "
        "application (the balance each announces), not in account_credits",
    )
    for r in ix.of_type("refund.due", "invoice.refunded", "invoice.credit_applied"):
        res.checked += 1
        if p(r).credit_balance < 0:
            res.fail(
                f"{r.topic} for account {p(r).account_id}: credit balance {p(r).credit_balance}"
            )
    for credit in ix.h.db.credits:
        res.checked += 1
        if credit.balance < 0:
            res.fail(f"account {credit.account_id} holds {credit.balance} {credit.currency}")
    return res


def document_numbers_gap_free(ix: Index) -> Result:
    res = Result(
        "document_numbers_gap_free",
        "native invoice and credit note numbers are each, per year, exactly 1..the year's "
        "counter: none missing, none twice, none beyond the counter (the whole table)",
    )
    for s in ix.h.db.numbers:
        res.checked += 1
        what = f"{s.kind} numbers {s.year}"
        res.counts[f"{s.kind}s"] = res.counts.get(f"{s.kind}s", 0) + s.documents
        if s.year == 0:
            if s.documents:
                res.fail(f"{s.documents} {s.kind} numbers do not read <prefix>-<year>-<n>")
            continue
        if not (s.documents == s.distinct == s.highest == s.last) or s.lowest not in (0, 1):
            res.fail(
                f"{what}: {s.documents} documents, {s.distinct} distinct numbers from "
                f"{s.lowest} to {s.highest}, counter at {s.last}"
            )
    return res
