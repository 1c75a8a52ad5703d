"""invoice_svc's corrections: credit notes (for lines, an amount or all of an invoice, native or
from the accounting system), cancellations of invoices and orders as credit notes, and the
customer credit they free: paid back (refund) or applied to another invoice.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from contracts import money
from services.invoice_svc.domain.decisions.billing import totals_differences
from services.invoice_svc.domain.decisions.books import (
    CANCEL,
    CREDIT,
    INTERNAL,
    REGISTER_CREDIT,
    Billing,
    CustomerCredits,
    Numbers,
    book_credit_note,
    credit_note_of,
)
from services.invoice_svc.domain.decisions.outcomes import Refusal, Unchanged
from services.invoice_svc.domain.model import (
    ZERO,
    CreditNote,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoicingMode,
    Line,
    Order,
    add_rates,
    by_rate,
    rate_line,
)


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """What to credit: `lines` (invoice line, quantity), or an `amount`, or (neither) all."""

    ref: str
    reason: str
    lines: tuple[tuple[int, Decimal], ...] = ()
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExternalCredit:
    external_credit_note_id: str
    credit_note_number: str
    currency: str
    lines: tuple[tuple[int, Decimal], ...]
    totals: money.DocumentTotals
    issue_date: date
    reason: str


def credit_invoice(
    invoice: Invoice | None,
    request: CreditRequest,
    *,
    invoice_ref: str,
    deal_id: str,
    existing: CreditNote | None,
    mode: InvoicingMode,
    numbers: Numbers,
    customer_credit: CustomerCredits,
    order: Order | None,
    now: datetime,
    command: str = CREDIT,
) -> Billing | Unchanged | Refusal:
    """A credit note for (part of) an invoice, numbered from its own sequence."""
    if command == CREDIT and request.ref.startswith(INTERNAL):
        return Refusal(
            command, "reserved_ref", f"credit refs starting {INTERNAL!r} are salesflow's"
        )
    if existing is not None:
        return Unchanged(f"credit {request.ref} is issued already ({existing.credit_note_number})")
    refusal = _creditable(invoice, invoice_ref, deal_id, command)
    if refusal is not None:
        return refusal
    assert invoice is not None
    if mode is InvoicingMode.EXTERNAL:
        return Refusal(
            command, "wrong_mode", "credit notes come from the accounting system", invoice_ref
        )
    amount = request.amount
    if amount is not None and money.round_money(amount, invoice.currency) != amount:
        # Rounded silently, the credit would not be what was asked.
        return Refusal(
            command,
            "invalid_amount",
            f"{amount} has more decimals than {invoice.currency} allows",
            invoice_ref,
        )
    billing = Billing(customer_credit, order=order)
    pieces = credit_pieces(invoice, request)
    if isinstance(pieces, str):
        return Refusal(command, "over_credit", pieces, invoice_ref)
    lines, order_lines = pieces
    note = credit_note_of(
        invoice, lines, numbers, request.reason, request.ref, now, order_lines=order_lines
    )
    book_credit_note(billing, invoice, note, now)
    _use_down_payment(billing, invoice, note)
    return billing


def register_external_credit(
    invoice: Invoice | None,
    credit: ExternalCredit,
    *,
    invoice_ref: str,
    deal_id: str,
    existing: CreditNote | None,
    mode: InvoicingMode,
    customer_credit: CustomerCredits,
    order: Order | None,
    now: datetime,
) -> Billing | Unchanged | Refusal:
    """The accounting system's credit note, checked to the cent like its invoices."""
    if existing is not None:
        return Unchanged(f"ERP credit note {credit.external_credit_note_id} is registered already")
    if mode is not InvoicingMode.EXTERNAL:
        return Refusal(REGISTER_CREDIT, "wrong_mode", "credit notes are made here", invoice_ref)
    refusal = _creditable(invoice, invoice_ref, deal_id, REGISTER_CREDIT)
    if refusal is not None:
        return refusal
    assert invoice is not None
    if credit.currency != invoice.currency:
        return Refusal(
            REGISTER_CREDIT,
            "currency_mismatch",
            f"credit note in {credit.currency}, invoice in {invoice.currency}",
            invoice_ref,
        )
    if credit.lines:
        pieces = credit_pieces(
            invoice, CreditRequest(credit.external_credit_note_id, credit.reason, credit.lines)
        )
        if isinstance(pieces, str):
            return Refusal(REGISTER_CREDIT, "over_credit", pieces, invoice_ref)
        lines, order_lines = pieces
        expected = money.sum_totals((x.amounts(invoice.currency) for x in lines), invoice.currency)
        differences = totals_differences(credit.totals, expected)
        if differences:
            return Refusal(
                REGISTER_CREDIT,
                "totals_mismatch",
                "ERP credit note vs lines: " + "; ".join(differences),
                invoice_ref,
            )
    else:
        pieces = credit_pieces(
            invoice,
            CreditRequest(
                credit.external_credit_note_id, credit.reason, amount=credit.totals.grand_total
            ),
        )
        if isinstance(pieces, str):
            return Refusal(REGISTER_CREDIT, "over_credit", pieces, invoice_ref)
        lines, order_lines = pieces
    note = credit_note_of(
        invoice,
        lines,
        None,
        credit.reason,
        credit.external_credit_note_id,
        now,
        number=credit.credit_note_number,
        external_id=credit.external_credit_note_id,
        order_lines=order_lines,
        totals=credit.totals,
    )
    billing = Billing(customer_credit, order=order)
    book_credit_note(billing, invoice, replace(note, issue_date=credit.issue_date), now)
    _use_down_payment(billing, invoice, note)
    return billing


def cancel_invoice(
    invoice: Invoice | None,
    *,
    invoice_ref: str,
    deal_id: str,
    reason: str,
    ref: str,
    mode: InvoicingMode,
    numbers: Numbers,
    customer_credit: CustomerCredits,
    order: Order | None,
    now: datetime,
) -> Billing | Refusal:
    """Cancelling a posted invoice is a full credit note (never a status change); money already
    received for it becomes a refund due."""
    if invoice is not None and invoice.state is InvoiceState.CANCELED:
        return Refusal(
            CANCEL,
            "already_cancelled",
            f"invoice {invoice.invoice_number} is cancelled",
            invoice_ref,
        )
    decided = credit_invoice(
        invoice,
        CreditRequest(ref, reason),
        invoice_ref=invoice_ref,
        deal_id=deal_id,
        existing=None,
        mode=mode,
        numbers=numbers,
        customer_credit=customer_credit,
        order=order,
        now=now,
        command=CANCEL,
    )
    if isinstance(decided, Billing):
        note = decided.notes[-1]
        decided.cancelled.append((note.invoice_id, reason, note.credit_note_id))
    assert not isinstance(decided, Unchanged)
    return decided


def _use_down_payment(billing: Billing, invoice: Invoice, note: CreditNote) -> None:
    """A credit note on the order's down payment invoice uses that much of the down payment up.

    Without it the order kept counting the credited part as left, and deducted it again from
    the next delivery invoice (or credited it again when the order was cancelled): a second
    credit note for money the down payment invoice no longer asked, more credited than billed.
    Deductions and the order's cancellation mark what they use themselves.
    """
    order = billing.order
    dp = order.down_payment if order is not None else None
    if order is None or dp is None or dp.invoice_id != invoice.invoice_id:
        return
    used = add_rates(dp.used, by_rate(note.lines))
    billing.order = replace(order, down_payment=replace(dp, used=used))


def _creditable(invoice: Invoice | None, ref: str, deal_id: str, command: str) -> Refusal | None:
    if invoice is None:
        return Refusal(command, "unknown_invoice", f"no invoice {ref}", ref)
    if invoice.deal_id != deal_id:
        return Refusal(
            command,
            "deal_mismatch",
            f"invoice {invoice.invoice_number} belongs to another deal",
            ref,
        )
    if invoice.creditable <= 0:
        return Refusal(
            command,
            "nothing_to_credit",
            f"invoice {invoice.invoice_number} is credited in full",
            ref,
        )
    return None


def credit_pieces(
    invoice: Invoice, request: CreditRequest, *, capped: bool = False
) -> tuple[tuple[Line, ...], tuple[tuple[int, Decimal], ...]] | str:
    """The credit note's lines and the order lines it takes back, or why it cannot be.
    `capped`: lines worth more at a tax rate than is left there are credited for what is left
    instead of refused (an order's cancellation credits what will not ship, whatever was
    credited before)."""
    currency = invoice.currency
    if request.amount is not None:
        try:
            spread = money.spread_over_rates(request.amount, invoice.creditable_rates(), currency)
        except money.MoneyError:
            return f"{request.amount} {currency} asked, {invoice.creditable} left to credit"
        return tuple(
            rate_line(n, f"Credit: {request.reason}"[:200], r, *spread[r])
            for n, r in enumerate(sorted(spread), 1)
        ), ()
    # "All" credits what is left line by line (so the order takes the quantities back) while
    # every earlier credit of the invoice was for lines; after an amount credit, what is left
    # is known only per tax rate.
    by_lines = invoice.kind is InvoiceKind.STANDARD and _only_line_credits(invoice)
    asked = _summed(request.lines) or tuple(
        (x.line_no, x.quantity - invoice.credited_of(x).quantity)
        for x in invoice.lines
        if x.quantity > invoice.credited_of(x).quantity
    )
    if not request.lines and not by_lines:
        rates = {r: a for r, a in invoice.creditable_rates().items() if a[0] + a[1] > 0}
        return tuple(
            rate_line(n, f"Credit: {request.reason}"[:200], r, *rates[r])
            for n, r in enumerate(sorted(rates), 1)
        ), ()
    lines, order_lines = [], []
    for line_no, quantity in asked:
        line = invoice.line(line_no)
        if line is None:
            return f"invoice {invoice.invoice_number} has no line {line_no}"
        done = invoice.credited_of(line)
        if quantity > line.quantity - done.quantity:
            return (
                f"line {line_no}: {quantity} asked, {line.quantity - done.quantity} left to credit"
            )
        amounts = money.piece_of_line(
            line.amounts(currency),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            part=quantity,
            taken=done.amounts,
            taken_quantity=done.quantity,
        )
        lines.append(line.piece(quantity, amounts))
        if invoice.kind is InvoiceKind.STANDARD:
            order_lines.append((line_no, quantity))
    left = invoice.creditable_rates()
    for rate, (net, tax) in by_rate(lines).items():
        net_left, tax_left = left.get(rate, (ZERO, ZERO))
        if net > net_left or tax > tax_left:
            if capped:
                return _capped(invoice, lines, request.reason)
            return f"tax rate {rate}: {net + tax} asked, {net_left + tax_left} left to credit"
    return tuple(lines), tuple(order_lines)


def _capped(
    invoice: Invoice, lines: Sequence[Line], reason: str
) -> tuple[tuple[Line, ...], tuple[tuple[int, Decimal], ...]]:
    """What `lines` are worth per tax rate, but no more than is left to credit at it: an amount
    credited earlier lowered what the invoice asks for them. Like that amount credit, it takes
    back no quantity."""
    left, credit = invoice.creditable_rates(), {}
    for rate, (net, tax) in by_rate(lines).items():
        net_left, tax_left = left.get(rate, (ZERO, ZERO))
        gross = min(net + tax, net_left + tax_left)
        if gross > 0:
            credit.update(
                money.spread_over_rates(gross, {rate: (net_left, tax_left)}, invoice.currency)
            )
    return tuple(
        rate_line(n, f"Credit: {reason}"[:200], r, *credit[r])
        for n, r in enumerate(sorted(credit), 1)
    ), ()


def _summed(lines: tuple[tuple[int, Decimal], ...]) -> tuple[tuple[int, Decimal], ...]:
    """One (line, quantity) per line, in first-named order: a line named twice is credited as
    the sum (priced per entry, each from the same starting point, the two pieces took more than
    the line had left, and the invoice remembered only one of them)."""
    summed: dict[int, Decimal] = {}
    for line_no, quantity in lines:
        summed[line_no] = summed.get(line_no, ZERO) + quantity
    return tuple(summed.items())


def _only_line_credits(invoice: Invoice) -> bool:
    """True while every credit of the invoice was for lines (none spread an amount over rates)."""
    from_lines: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in invoice.lines:
        done = invoice.credited_lines.get(line.line_no)
        if done is not None:
            net, tax = from_lines.get(line.tax_rate, (ZERO, ZERO))
            from_lines[line.tax_rate] = (net + done.amounts.net, tax + done.amounts.tax)
    return _nonzero(from_lines) == _nonzero(invoice.credited_rates)


def _nonzero(
    rates: Mapping[Decimal, tuple[Decimal, Decimal]],
) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return {rate: amounts for rate, amounts in rates.items() if amounts != (ZERO, ZERO)}
