"""invoice_svc's billing decisions: orders billed by policy (on order, on delivery, down
payment), the accounting system's invoices for all or part of an order, and payments.

Pure: standard library and `contracts.money` only; time, ids and number counters come in.
Pieces of lines are priced by `money.piece_of_line`, so the invoices of an order add up to it to
the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from contracts import money
from services.invoice_svc.domain.decisions.books import (
    INTERNAL,
    ORDER_CONFIRMED,
    RECORD_PAYMENT,
    REGISTER,
    Billing,
    CustomerCredits,
    Numbers,
    book_credit_note,
    credit_note_of,
    invoice_of,
)
from services.invoice_svc.domain.decisions.outcomes import Refusal, Unchanged
from services.invoice_svc.domain.model import (
    ZERO,
    BillingPolicy,
    DownPayment,
    ExternalClaim,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoicingMode,
    InvoicingPolicy,
    Line,
    Order,
    Payment,
    add_rates,
    by_rate,
    invoice_id_for,
    rate_line,
)


@dataclass(frozen=True, slots=True)
class Held:
    """An ERP invoice whose order is not known yet: kept until the order arrives."""

    claim: ExternalClaim


def remember_order(existing: Order | None, confirmed: Order) -> Order:
    """The first confirmation wins: a redelivered order.confirmed must not undo a cancellation
    or forget what was billed."""
    return existing if existing is not None else confirmed


def billing_of(order: Order, policy: InvoicingPolicy) -> BillingPolicy:
    return order.billing or policy.billing


def bill_at_confirmation(
    order: Order,
    *,
    policy: InvoicingPolicy,
    numbers: Numbers,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Unchanged | Refusal:
    """on_order: the whole order; down_payment: the down payment; on_delivery: nothing yet.
    An order cancelled before its confirmation was read bills nothing here (what shipped of
    it is billed as shipments)."""
    ref = str(order.order_id)
    if order.cancelled:
        return Unchanged(f"order {ref} is cancelled")
    mismatch = recheck_lines(order)
    if mismatch is not None:
        return Refusal(ORDER_CONFIRMED, "totals_mismatch", mismatch, ref)
    billing = Billing(customer_credit)
    match billing_of(order, policy):
        case BillingPolicy.ON_ORDER:
            if order.billed:
                return Unchanged(f"order {ref} is billed already")
            pieces = [(line, line.quantity) for line in order.lines]
            _bill(billing, order, pieces, invoice_id_for(order.order_id), numbers, now)
        case BillingPolicy.DOWN_PAYMENT:
            if order.down_payment is not None:
                return Unchanged(f"order {ref} has its down payment invoice")
            rate = order.down_payment_rate or policy.down_payment_rate
            _down_payment(billing, order, rate, numbers, now)
        case BillingPolicy.ON_DELIVERY:
            return Unchanged(f"order {ref} is billed on delivery")
    return billing


def record_shipment(order: Order, shipped_totals: Mapping[int, Decimal]) -> Order:
    """Shipped totals only grow (a redelivered, older shipment changes nothing)."""
    shipped = dict(order.shipped)
    for line_no, total in shipped_totals.items():
        shipped[line_no] = max(shipped.get(line_no, ZERO), total)
    return replace(order, shipped=shipped)


def bill_shipment(
    order: Order,
    *,
    shipment_ref: str,
    down_payment: Invoice | None,
    policy: InvoicingPolicy,
    numbers: Numbers,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Unchanged:
    """Invoice what shipped and is not billed yet; deduct the down payment from it."""
    # A cancellation stops billing what will not ship; what did ship is billed whatever the
    # policy (an on_order order cancelled before its confirmation was read billed nothing).
    if billing_of(order, policy) is BillingPolicy.ON_ORDER and not order.cancelled:
        return Unchanged(f"order {order.order_number} is not billed on delivery")
    pieces = []
    for line in order.lines:
        shipped = min(order.shipped.get(line.line_no, ZERO), line.quantity)
        if shipped - order.billed_of(line).quantity > 0:
            pieces.append((line, shipped - order.billed_of(line).quantity))
    if not pieces:
        return Unchanged(f"nothing shipped and unbilled on order {order.order_number}")
    billing = Billing(customer_credit)
    invoice_id = invoice_id_for(order.order_id, f"shipment:{shipment_ref}")
    invoice = _bill(billing, order, pieces, invoice_id, numbers, now)
    if down_payment is not None:
        _deduct(billing, invoice, down_payment, numbers, now)
    return billing


def register_external(
    claim: ExternalClaim,
    *,
    mode: InvoicingMode,
    order: Order | None,
    registered: Invoice | None,
    held: ExternalClaim | None,
    numbered: Invoice | None,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Held | Unchanged | Refusal:
    """Link an ERP invoice to its order, hold it while the order is unknown, or refuse it.

    The same ERP invoice registered again (under a new event id) is a silent no-op, as the
    contract promises: the ERP retries, and a refusal would read like a failure to its user.
    """
    ref = claim.external_invoice_id
    if mode is not InvoicingMode.EXTERNAL:
        return Refusal(REGISTER, "wrong_mode", "invoices are made natively from orders", ref)
    if registered is not None:
        return Unchanged(f"ERP invoice {ref} is registered as {registered.invoice_id}")
    if held is not None:
        return Unchanged(f"ERP invoice {ref} is held already")
    if order is None:
        return Held(claim)
    return accept_external(
        claim, order=order, numbered=numbered, customer_credit=customer_credit, now=now
    )


def accept_external(
    claim: ExternalClaim,
    *,
    order: Order,
    numbered: Invoice | None,
    customer_credit: CustomerCredits,
    now: datetime,
) -> Billing | Refusal:
    """Check an ERP invoice against what is still unbilled of its order, to the cent, and
    post it."""

    def refuse(code: str, detail: str) -> Refusal:
        return Refusal(REGISTER, code, detail, claim.external_invoice_id, claim.command_event_id)

    if order.cancelled:
        return refuse("order_cancelled", f"order {order.order_number} is cancelled")
    if claim.deal_id != order.deal_id:
        return refuse("deal_mismatch", f"order {order.order_number} belongs to another deal")
    if claim.currency != order.currency:
        return refuse(
            "currency_mismatch", f"invoice in {claim.currency}, order in {order.currency}"
        )
    if numbered is not None:
        return refuse(
            "duplicate_invoice_number",
            f"invoice number {claim.invoice_number} is taken by {numbered.invoice_id}",
        )
    asked = claim.lines
    if asked is None:
        asked = tuple((x.line_no, order.unbilled(x), None, None) for x in order.lines)
        asked = tuple(a for a in asked if a[1] > 0)
        if not asked:
            return refuse("order_fully_invoiced", f"order {order.order_number} is billed in full")
    # One order line named twice is billed as its sum: checked one by one, each part passed the
    # unbilled check alone, and priced from the same starting point the two made one invoice
    # bill more than the line (and the order remembered only the last).
    asked = _summed_claim(asked)
    pieces = []
    for line_no, quantity, _net, _tax in asked:
        line = order.line(line_no)
        if line is None:
            return refuse("unknown_line", f"order {order.order_number} has no line {line_no}")
        if quantity > order.unbilled(line):
            return refuse(
                "over_billing",
                f"line {line_no}: {quantity} billed, {order.unbilled(line)} left unbilled",
            )
        pieces.append((line, quantity))
    billing = Billing(customer_credit)
    invoice = _bill(
        billing,
        order,
        pieces,
        invoice_id_for(order.order_id, f"erp:{claim.external_invoice_id}"),
        None,
        now,
        number=claim.invoice_number,
        external_id=claim.external_invoice_id,
    )
    for (line_no, _qty, net, tax), line in zip(asked, invoice.lines, strict=True):
        if (net is not None and net != line.net_amount) or (
            tax is not None and tax != line.tax_amount
        ):
            return refuse(
                "totals_mismatch",
                f"line {line_no}: net {net} tax {tax} vs {line.net_amount} {line.tax_amount}",
            )
    differences = totals_differences(claim.totals, invoice.totals)
    if differences:
        return refuse("totals_mismatch", "ERP invoice vs order lines: " + "; ".join(differences))
    dated = replace(invoice, issue_date=claim.issue_date, due_date=claim.due_date)
    billing.invoices[invoice.invoice_id] = dated
    billing.entries[-1] = replace(
        billing.entries[-1], occurred_on=claim.issue_date, due_date=claim.due_date
    )
    return billing


def record_payment(
    allocations: Sequence[tuple[Invoice | None, str, Decimal]],
    payment: Payment,
    *,
    recorded_on: frozenset[UUID],
    deal_id: str,
    policy: InvoicingPolicy,
    customer_credit: CustomerCredits,
) -> Billing | Unchanged | Refusal:
    """Record a payment on one invoice or spread over several of one account. Idempotent per
    payment id: the same id again on the same invoices changes nothing; on others it is refused
    (`payment_id_reused`), never dropped. Money on a credited invoice, or (when accepted) beyond
    what an invoice asks, becomes customer credit and a refund due."""
    pid = payment.payment_id
    named = {inv.invoice_id for inv, _, _ in allocations if inv is not None}
    if recorded_on:
        if recorded_on == named:
            return Unchanged(f"payment {pid} is recorded already")
        return Refusal(
            RECORD_PAYMENT, "payment_id_reused", f"payment {pid} paid other invoices", pid
        )
    accounts = set()
    allocations = _merged(allocations)
    for invoice, ref, amount in allocations:
        if invoice is None:
            return Refusal(RECORD_PAYMENT, "unknown_invoice", f"no invoice {ref}", ref)
        if len(allocations) == 1 and invoice.deal_id != deal_id:
            return Refusal(
                RECORD_PAYMENT,
                "deal_mismatch",
                f"invoice {invoice.invoice_number} belongs to another deal",
                ref,
            )
        if payment.currency != invoice.currency:
            return Refusal(
                RECORD_PAYMENT,
                "currency_mismatch",
                f"payment in {payment.currency}, invoice in {invoice.currency}",
                ref,
            )
        if money.round_money(amount, invoice.currency) != amount:
            return Refusal(
                RECORD_PAYMENT,
                "invalid_amount",
                f"{amount} has more decimals than {invoice.currency} allows",
                ref,
            )
        over = invoice.state is not InvoiceState.CANCELED and amount > invoice.balance_due
        if over and not policy.accept_overpayments:
            return Refusal(
                RECORD_PAYMENT,
                "overpayment",
                f"payment {pid} of {amount} exceeds the balance due {invoice.balance_due}",
                ref,
            )
        accounts.add(invoice.account_id)
    if len(accounts) > 1:
        return Refusal(
            RECORD_PAYMENT,
            "several_accounts",
            f"payment {pid} names invoices of several accounts",
            pid,
        )
    billing = Billing(customer_credit)
    for invoice, _ref, amount in allocations:
        assert invoice is not None
        cause = (
            "payment_on_credited_invoice"
            if invoice.state is InvoiceState.CANCELED
            else "overpayment"
        )
        billing.book_payment(invoice, replace(payment, amount=amount), cause=cause)
    return billing


def _merged(
    allocations: Sequence[tuple[Invoice | None, str, Decimal]],
) -> list[tuple[Invoice | None, str, Decimal]]:
    """One allocation per invoice, the amounts named for it summed, in first-named order.

    Checked one by one, two allocations of one invoice each within its balance passed the
    overpayment rule together beyond it; and a payment is kept once per invoice."""
    merged: dict[UUID | str, tuple[Invoice | None, str, Decimal]] = {}
    for invoice, ref, amount in allocations:
        key = invoice.invoice_id if invoice is not None else ref
        first, first_ref, before = merged.get(key, (invoice, ref, ZERO))
        merged[key] = (first, first_ref, before + amount)
    return list(merged.values())


def _bill(
    billing: Billing,
    order: Order,
    pieces: Sequence[tuple[Line, Decimal]],
    invoice_id: UUID,
    numbers: Numbers | None,
    now: datetime,
    *,
    number: str | None = None,
    external_id: str | None = None,
) -> Invoice:
    """Post one invoice billing `pieces` (order line, quantity); the order remembers them."""
    base = billing.order or order
    billed, lines = dict(base.billed), []
    for line, quantity in pieces:
        done = base.billed_of(line)
        if done.quantity + quantity <= line.quantity:
            # Within what was never billed: priced against everything billed so far, so the
            # pieces of the line add up to it to the cent, whatever was credited in between.
            taken, taken_quantity = done.amounts, done.quantity
        else:
            # Billing again what a credit note took back (an ERP's corrected invoice): priced
            # against what is billed and not credited, completing the line like a first billing.
            taken, taken_quantity = done.net_amounts(), done.net_quantity
        amounts = money.piece_of_line(
            line.amounts(order.currency),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            part=quantity,
            taken=taken,
            taken_quantity=taken_quantity,
        )
        lines.append(line.piece(quantity, amounts))
        billed[line.line_no] = replace(
            done,
            quantity=done.quantity + quantity,
            amounts=money.add_amounts(done.amounts, amounts),
        )
    billing.order = replace(base, billed=billed)
    invoice = invoice_of(
        order, invoice_id, tuple(lines), numbers, now, number=number, external_id=external_id
    )
    billing.post(invoice)
    return invoice


def _down_payment(
    billing: Billing, order: Order, rate: Decimal, numbers: Numbers, now: datetime
) -> None:
    """The down payment invoice: `rate` of the order's net per tax rate, with its tax."""
    lines = []
    for n, (tax_rate, (net, _tax)) in enumerate(sorted(by_rate(order.lines).items()), 1):
        share = money.round_money(net * rate, order.currency)
        tax = money.round_money(share * tax_rate, order.currency)
        text = f"Down payment {rate * 100:g} % of order {order.order_number}"
        lines.append(rate_line(n, text, tax_rate, share, tax))
    invoice_id = invoice_id_for(order.order_id, "down_payment")
    invoice = invoice_of(
        order, invoice_id, tuple(lines), numbers, now, kind=InvoiceKind.DOWN_PAYMENT
    )
    billing.post(invoice)
    billing.order = replace(
        order, down_payment=DownPayment(invoice_id, invoice.invoice_number, by_rate(lines))
    )


def _deduct(
    billing: Billing, invoice: Invoice, down_payment: Invoice, numbers: Numbers, now: datetime
) -> None:
    """Deduct the down payment from a delivery invoice: a credit note on the down payment
    invoice for the share (per tax rate, at most what the delivery invoice bills at that rate),
    and the money that frees of what was paid for it applied to the delivery invoice."""
    order = billing.order
    if order is None or order.down_payment is None:
        return
    dp, billed = order.down_payment, by_rate(invoice.lines)
    taken: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for rate, (net_left, tax_left) in dp.left().items():
        net_billed, tax_billed = billed.get(rate, (ZERO, ZERO))
        gross = min(net_left + tax_left, net_billed + tax_billed)
        if gross > 0:
            taken.update(
                money.spread_over_rates(gross, {rate: (net_left, tax_left)}, invoice.currency)
            )
    if not taken:
        return
    text = f"Down payment deducted on invoice {invoice.invoice_number}"
    lines = tuple(rate_line(n, text, r, *taken[r]) for n, r in enumerate(sorted(taken), 1))
    note = credit_note_of(
        billing.latest(down_payment),
        lines,
        numbers,
        text,
        f"{INTERNAL}deduct:{invoice.invoice_id}",
        now,
    )
    billing.order = replace(order, down_payment=replace(dp, used=add_rates(dp.used, taken)))
    freed = book_credit_note(billing, billing.latest(down_payment), note, now, refund=False)
    deductions = tuple((dp.invoice_id, dp.invoice_number, r, *taken[r]) for r in sorted(taken))
    billing.invoices[invoice.invoice_id] = replace(billing.latest(invoice), deductions=deductions)
    if freed > 0:
        billing.apply(
            invoice,
            min(freed, billing.latest(invoice).balance_due),
            f"{INTERNAL}deduct:{note.credit_note_id}",
            now,
        )


def _summed_claim(
    lines: tuple[tuple[int, Decimal, Decimal | None, Decimal | None], ...],
) -> tuple[tuple[int, Decimal, Decimal | None, Decimal | None], ...]:
    """(line, quantity, net, tax) once per line: quantities summed, and the amounts given summed
    (unknown when one part did not give them)."""
    summed: dict[int, tuple[int, Decimal, Decimal | None, Decimal | None]] = {}
    for line_no, quantity, net, tax in lines:
        if line_no not in summed:
            summed[line_no] = (line_no, quantity, net, tax)
            continue
        _, q, n, t = summed[line_no]
        summed[line_no] = (
            line_no,
            q + quantity,
            None if n is None or net is None else n + net,
            None if t is None or tax is None else t + tax,
        )
    return tuple(summed.values())


def recheck_lines(order: Order) -> str | None:
    """Re-price every line with the one pricing rule and re-sum: None when all agree to the cent."""
    try:
        priced = [
            money.price_line(
                line.quantity, line.unit_price, line.discount_amount, line.tax_rate, order.currency
            )
            for line in order.lines
        ]
    except money.MoneyError as error:
        return f"a line cannot be priced: {error}"
    for line, amounts in zip(order.lines, priced, strict=True):
        if line.amounts(order.currency) != amounts:
            return f"line {line.line_no} amounts differ from its repricing"
    differences = totals_differences(order.totals, money.sum_totals(priced, order.currency))
    if differences:
        return "order totals vs sum of lines: " + "; ".join(differences)
    return None


def totals_differences(given: money.DocumentTotals, expected: money.DocumentTotals) -> list[str]:
    """Per total, 'name given vs expected (difference d)' where they differ at all."""
    pairs = (
        ("subtotal", given.subtotal, expected.subtotal),
        ("discount_total", given.discount_total, expected.discount_total),
        ("net_total", given.net_total, expected.net_total),
        ("tax_total", given.tax_total, expected.tax_total),
        ("grand_total", given.grand_total, expected.grand_total),
    )
    return [f"{name} {a} vs {b} (difference {a - b})" for name, a, b in pairs if a != b]
