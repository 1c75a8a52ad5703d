"""What the lifecycle driver knows of each deal's orders and invoices, from the events it saw,
and when a deal's billing and money are settled.

Events about one deal travel on several topics and are read in any order (an invoice.credited
may be read before the invoice.posted it credits), so everything here is a tally that only
grows, and "settled" is a condition over the tallies, evaluated again after every event:

- billing (native invoicing): an order not cancelled is shipped in full and billed in full, its
  down payment used up by the deductions; a cancelled order is billed, net of its credit notes,
  exactly what shipped, its down payment credited in full.
- money: the money the deal's invoices moved to customer credit (what was credited, paid and
  applied beyond an invoice's total) was announced as refund.due, except what invoice_svc
  applied at once to the deal's other invoices (a down payment deduction, the money a
  cancellation frees settling what the order still asks: applications the driver did not ask
  for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from contracts import money
from contracts.documents import DocumentLine

ZERO = Decimal(0)
ON_ORDER, ON_DELIVERY, DOWN_PAYMENT = "on_order", "on_delivery", "down_payment"


@dataclass(frozen=True)
class OrderPlan:
    """What the people around an order will do with it, drawn when it is confirmed."""

    cancel_now: bool = False  # the customer withdraws at once (nothing paid, nothing shipped)
    race: bool = False  # cancelled as its first invoice is paid, both published at once
    split: bool = False  # shipped in two partial shipments
    cancel_remainder: bool = False  # the remainder cancelled after the first shipment
    credit_line: bool = False  # one line of its first invoice returned and credited
    erp_split: bool = False  # external: the ERP bills it in two invoices

    @property
    def cancels(self) -> bool:
        return self.cancel_now or self.race or self.cancel_remainder


@dataclass
class SeenInvoice:
    """An invoice as its events tell it; the money tallies may fill before it is posted."""

    invoice_id: UUID
    posted: bool = False
    order_id: UUID | None = None
    number: str = ""
    kind: str = "standard"
    external_id: str | None = None
    account_id: UUID | None = None
    currency: str = ""
    grand: Decimal = ZERO
    deducted: Decimal = ZERO  # down payment deducted from it (informational on the invoice)
    lines: tuple[DocumentLine, ...] = ()
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    credited_lines: dict[int, Decimal] = field(default_factory=dict)  # line -> quantity
    credited_amounts: dict[int, money.LineAmounts] = field(default_factory=dict)
    applied: Decimal = ZERO  # customer credit applied to it (ours and deductions)
    refund_due: Decimal = ZERO  # moved to customer credit and announced

    @property
    def asks(self) -> Decimal:
        """What the customer is asked to pay: the total less the down payment deducted."""
        return self.grand - self.deducted

    def moved_to_credit(self) -> Decimal:
        """What invoice_svc moved from this invoice to the customer's credit: everything
        received or credited beyond its total (a balance never goes below zero)."""
        return max(ZERO, self.credited + self.paid + self.applied - self.grand)


@dataclass
class SeenOrder:
    """An order as its events tell it, with the plan the driver drew for it."""

    order_id: UUID
    number: str
    currency: str
    account_id: UUID
    policy: str  # as asked on acceptance, else the deployment's default
    lines: tuple[DocumentLine, ...]
    plan: OrderPlan
    shipped: dict[int, Decimal] = field(default_factory=dict)
    cancelled: bool = False
    invoices: list[UUID] = field(default_factory=list)  # as posted (seen), oldest first
    down_payment: UUID | None = None
    todo: set[str] = field(default_factory=set)  # steps waiting for their moment
    done: set[str] = field(default_factory=set)  # steps taken (each once)
    erp_first: dict[int, Decimal] = field(default_factory=dict)  # first ERP invoice's quantities

    def ordered(self) -> dict[int, Decimal]:
        return {line.line_no: line.quantity for line in self.lines}

    @property
    def fully_shipped(self) -> bool:
        return all(self.shipped.get(n, ZERO) >= q for n, q in self.ordered().items())

    def record_shipped(self, totals: Iterable[tuple[int, Decimal]]) -> None:
        for line_no, total in totals:
            self.shipped[line_no] = max(self.shipped.get(line_no, ZERO), total)


def first_part(lines: Iterable[DocumentLine]) -> dict[int, Decimal]:
    """A first partial shipment (or partial invoice): half of every line of two units or more,
    rounded down, or else the first of several lines; empty when the order cannot be split."""
    lines = list(lines)
    part = {}
    for line in lines:
        half = (line.quantity / 2).quantize(Decimal(1), rounding=ROUND_DOWN)
        if 0 < half < line.quantity:
            part[line.line_no] = half
    if not part and len(lines) > 1:
        part[lines[0].line_no] = lines[0].quantity
    return part


def rest_of(ordered: Mapping[int, Decimal], part: Mapping[int, Decimal]) -> dict[int, Decimal]:
    rest = {n: q - part.get(n, ZERO) for n, q in ordered.items()}
    return {n: q for n, q in rest.items() if q > 0}


def billed_per_line(order: SeenOrder, invoices: Mapping[UUID, SeenInvoice]) -> dict[int, Decimal]:
    """Quantities the order's standard invoices bill, per order line (credits not deducted)."""
    billed: dict[int, Decimal] = {}
    for invoice_id in order.invoices:
        invoice = invoices[invoice_id]
        if invoice.kind == "standard":
            for line in invoice.lines:
                billed[line.line_no] = billed.get(line.line_no, ZERO) + line.quantity
    return billed


def credited_per_line(order: SeenOrder, invoices: Mapping[UUID, SeenInvoice]) -> dict[int, Decimal]:
    credited: dict[int, Decimal] = {}
    for invoice_id in order.invoices:
        for line_no, quantity in invoices[invoice_id].credited_lines.items():
            credited[line_no] = credited.get(line_no, ZERO) + quantity
    return credited


def billing_settled(
    order: SeenOrder, invoices: Mapping[UUID, SeenInvoice], *, native: bool
) -> bool:
    """Whether the order is billed as its plan and policy lead to (native invoicing); with the
    ERP billing, its commands and the steps waiting for them say it instead."""
    if order.todo:
        return False
    if not native:
        return True
    billed = billed_per_line(order, invoices)
    if not order.cancelled:
        if not order.fully_shipped:
            return False
        if any(billed.get(n, ZERO) != q for n, q in order.ordered().items()):
            return False
        if order.policy == DOWN_PAYMENT and order.down_payment is None:
            return False
    else:
        credited = credited_per_line(order, invoices)
        for line_no in order.ordered():
            net = billed.get(line_no, ZERO) - credited.get(line_no, ZERO)
            if net != order.shipped.get(line_no, ZERO):
                return False
    dp = invoices.get(order.down_payment) if order.down_payment else None
    return dp is None or dp.credited == dp.grand


def money_settled(invoices: Mapping[UUID, SeenInvoice], internal_applied: Decimal) -> bool:
    """Every invoice posted, and what the deal's invoices moved to customer credit announced as
    refund.due, but for what invoice_svc applied at once to the deal's own invoices (a down
    payment deduction, the money a cancellation frees settling what the order still asks):
    `internal_applied`. Summed over the deal: invoice_svc may announce the money freed from
    several invoices of an order in one refund.due naming one of them."""
    if not all(invoice.posted for invoice in invoices.values()):
        return False
    moved = sum((invoice.moved_to_credit() for invoice in invoices.values()), ZERO)
    announced = sum((invoice.refund_due for invoice in invoices.values()), ZERO)
    return announced == moved - internal_applied


def credit_pieces(
    invoice: SeenInvoice, asked: Mapping[int, Decimal]
) -> tuple[list[tuple[int, Decimal, money.LineAmounts]], money.DocumentTotals]:
    """The lines of a credit note for `asked` (invoice line -> quantity), priced as invoice_svc
    prices a credit of lines (`money.piece_of_line`, what was credited of the line before
    taken off first), and its totals."""
    pieces = []
    for line in invoice.lines:
        part = asked.get(line.line_no, ZERO)
        if part <= 0:
            continue
        done = invoice.credited_lines.get(line.line_no, ZERO)
        amounts = invoice.credited_amounts.get(line.line_no)
        pieces.append((line.line_no, part, _piece(line, invoice.currency, part, done, amounts)))
    totals = money.sum_totals((a for _, _, a in pieces), invoice.currency)
    return pieces, totals


def billing_pieces(
    lines: Iterable[DocumentLine],
    currency: str,
    asked: Mapping[int, Decimal],
    taken: Mapping[int, tuple[Decimal, money.LineAmounts]],
) -> tuple[list[tuple[int, Decimal, money.LineAmounts]], money.DocumentTotals]:
    """The lines of an invoice for part of an order (order line -> quantity), priced as
    invoice_svc bills them: each a piece of its order line after what earlier invoices took."""
    pieces = []
    for line in lines:
        part = asked.get(line.line_no, ZERO)
        if part <= 0:
            continue
        before = taken.get(line.line_no, (ZERO, money.zero_amounts(currency)))
        pieces.append((line.line_no, part, _piece(line, currency, part, *before)))
    return pieces, money.sum_totals((a for _, _, a in pieces), currency)


def _piece(
    line: DocumentLine,
    currency: str,
    part: Decimal,
    taken_quantity: Decimal,
    taken: money.LineAmounts | None,
) -> money.LineAmounts:
    return money.piece_of_line(
        line.amounts(currency),
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax_rate=line.tax_rate,
        part=part,
        taken=taken or money.zero_amounts(currency),
        taken_quantity=taken_quantity,
    )


def taken_by(invoices: Iterable[SeenInvoice]) -> dict[int, tuple[Decimal, money.LineAmounts]]:
    """Quantities and amounts per order line that these standard invoices billed and did not
    credit back: what invoice_svc prices the next piece of a line against."""
    taken: dict[int, tuple[Decimal, money.LineAmounts]] = {}
    for invoice in invoices:
        currency = invoice.currency
        for line in invoice.lines:
            n = line.line_no
            quantity, amounts = taken.get(n, (ZERO, money.zero_amounts(currency)))
            amounts = money.add_amounts(amounts, line.amounts(currency))
            credited = invoice.credited_amounts.get(n, money.zero_amounts(currency))
            taken[n] = (
                quantity + line.quantity - invoice.credited_lines.get(n, ZERO),
                money.subtract_amounts(amounts, credited),
            )
    return taken


def shipped_of(lines: Iterable[Any]) -> list[tuple[int, Decimal]]:
    """(line, shipped total) from the lines of order.fulfilled or order.cancelled."""
    return [(line.line_no, line.quantity_shipped_total) for line in lines]
