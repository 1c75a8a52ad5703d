"""invoice_svc's domain values: orders as billed, invoices, credit notes, payments, customer
credit, receivable entries, number counters.

Pure: standard library and `contracts.money` only.

Money an invoice asks for is its `balance_due`: grand total - credited - paid - customer credit
applied + what was moved out of it to customer credit. It never goes below zero: money received
beyond what an invoice asks is moved to the account's customer credit (and announced as a refund
due). Every change of what a customer owes is also a receivable `Entry`, so that per account and
currency, outstanding = invoiced - credited - paid + refunded, as of any date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from contracts import money
from services.invoice_svc.domain.parties import CustomerDetails

# Ids are derived from stable inputs: a replayed decision mints the same id.
_ID_NAMESPACE = UUID("2f0c7a9e-4d1b-4e6a-8b3c-5a9d7e1f0c42")

TERM_DAYS: dict[str, int] = {
    "due_on_receipt": 0,
    "net_15": 15,
    "net_30": 30,
    "net_45": 45,
    "net_60": 60,
}
ZERO = Decimal(0)
RateAmounts = Mapping[Decimal, tuple[Decimal, Decimal]]  # tax rate -> (net, tax)


class InvoicingMode(StrEnum):
    """Who bills: invoice_svc from the order (native) or the accounting system (external)."""

    NATIVE = "native"
    EXTERNAL = "external"


class BillingPolicy(StrEnum):
    """When a native deployment bills an order (contracts.documents.InvoicingPolicy)."""

    ON_ORDER = "on_order"
    ON_DELIVERY = "on_delivery"
    DOWN_PAYMENT = "down_payment"


class InvoiceSource(StrEnum):
    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceKind(StrEnum):
    STANDARD = "standard"
    DOWN_PAYMENT = "down_payment"


class InvoiceState(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELED = "canceled"  # credited in full: it asks for nothing any more


class PaymentStatus(StrEnum):
    """Status reason of a Paid invoice (D365): Partial while a balance is due."""

    PARTIAL = "partial"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class InvoicingPolicy:
    mode: InvoicingMode = InvoicingMode.NATIVE
    number_prefix: str = "INV"
    credit_note_prefix: str = "CN"
    billing: BillingPolicy = BillingPolicy.ON_ORDER
    down_payment_rate: Decimal = Decimal("0.3")
    accept_overpayments: bool = False
    # Dunning: days of grace past the due date before an invoice is overdue, and the days past
    # due of each reminder level (ascending; empty: no reminders).
    overdue_grace_days: int = 0
    dunning_days: tuple[int, ...] = (7, 21, 45)
    # Hours an ERP invoice may wait for its order before a tick raises an alert (0: never).
    held_alert_hours: int = 24


@dataclass(frozen=True, slots=True)
class Line:
    """One priced document line (on an order-based invoice, line_no is the order's)."""

    line_no: int
    sku: str | None
    description: str
    write_in: bool
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_amount: Decimal
    tax_rate: Decimal
    base_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal

    def amounts(self, currency: str) -> money.LineAmounts:
        return money.LineAmounts(
            base=self.base_amount,
            discount=self.discount_amount,
            net=self.net_amount,
            tax=self.tax_amount,
            total=self.total_amount,
            currency=currency,
        )

    def piece(self, quantity: Decimal, amounts: money.LineAmounts) -> Line:
        """This line for `quantity` units with `amounts` (a piece of it billed or credited)."""
        return Line(
            line_no=self.line_no,
            sku=self.sku,
            description=self.description,
            write_in=self.write_in,
            quantity=quantity,
            unit=self.unit,
            unit_price=self.unit_price,
            discount_amount=amounts.discount,
            tax_rate=self.tax_rate,
            base_amount=amounts.base,
            net_amount=amounts.net,
            tax_amount=amounts.tax,
            total_amount=amounts.total,
        )


def rate_line(line_no: int, description: str, rate: Decimal, net: Decimal, tax: Decimal) -> Line:
    """A line of an amount per tax rate (a down payment, a credit of a sum): one unit, no sku."""
    return Line(
        line_no=line_no,
        sku=None,
        description=description,
        write_in=True,
        quantity=Decimal(1),
        unit="each",
        unit_price=net,
        discount_amount=ZERO,
        tax_rate=rate,
        base_amount=net,
        net_amount=net,
        tax_amount=tax,
        total_amount=net + tax,
    )


def by_rate(lines: Iterable[Line]) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """Net and tax per tax rate."""
    out: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        net, tax = out.get(line.tax_rate, (ZERO, ZERO))
        out[line.tax_rate] = (net + line.net_amount, tax + line.tax_amount)
    return out


def add_rates(a: RateAmounts, b: RateAmounts) -> dict[Decimal, tuple[Decimal, Decimal]]:
    out = dict(a)
    for rate, (net, tax) in b.items():
        n, t = out.get(rate, (ZERO, ZERO))
        out[rate] = (n + net, t + tax)
    return out


def sub_rates(a: RateAmounts, b: RateAmounts) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return add_rates(a, {rate: (-net, -tax) for rate, (net, tax) in b.items()})


@dataclass(frozen=True, slots=True)
class LineBilling:
    """What of one order line was billed (pieces on invoices) and credited back."""

    quantity: Decimal
    amounts: money.LineAmounts
    credited_quantity: Decimal = ZERO
    credited_amounts: money.LineAmounts | None = None

    @property
    def net_quantity(self) -> Decimal:
        return self.quantity - self.credited_quantity

    def net_amounts(self) -> money.LineAmounts:
        """Billed less credited: what the next piece of the line is priced against."""
        if self.credited_amounts is None:
            return self.amounts
        return money.subtract_amounts(self.amounts, self.credited_amounts)


@dataclass(frozen=True, slots=True)
class DownPayment:
    """An order's down payment invoice and what of it is used up (deducted or credited)."""

    invoice_id: UUID
    invoice_number: str
    billed: RateAmounts
    used: RateAmounts = field(default_factory=dict)

    def left(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        return {r: a for r, a in sub_rates(self.billed, self.used).items() if a != (ZERO, ZERO)}


@dataclass(frozen=True, slots=True)
class Order:
    """What invoice_svc remembers of a confirmed order, and how far it is shipped and billed."""

    order_id: UUID
    order_number: str
    quote_id: UUID
    deal_id: str
    account_id: UUID
    account_name: str
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    payment_terms: str
    confirmed_at: datetime
    billing: BillingPolicy | None = None  # None: the deployment's default
    down_payment_rate: Decimal | None = None
    cancelled: bool = False
    cancel_reason: str | None = None
    shipped: Mapping[int, Decimal] = field(default_factory=dict)
    billed: Mapping[int, LineBilling] = field(default_factory=dict)
    down_payment: DownPayment | None = None
    # Printed on its invoices; and the ERP's number once it booked the order (order.acknowledged).
    customer_details: CustomerDetails | None = None
    customer_po: str | None = None
    erp_order_number: str | None = None
    # From the quote, through order.confirmed: the base currency and the rate of the quote's
    # day; the order's invoices and credit notes carry their base amounts at it.
    base_currency: str | None = None
    exchange_rate: Decimal | None = None
    rate_date: date | None = None

    def line(self, line_no: int) -> Line | None:
        return next((line for line in self.lines if line.line_no == line_no), None)

    def billed_of(self, line: Line) -> LineBilling:
        return self.billed.get(line.line_no) or LineBilling(ZERO, money.zero_amounts(self.currency))

    def unbilled(self, line: Line) -> Decimal:
        """Not billed, or billed and credited back since (an ERP's corrected invoice after its
        credit note bills it again)."""
        return line.quantity - self.billed_of(line).net_quantity

    @property
    def fully_billed(self) -> bool:
        return all(self.unbilled(line) <= 0 for line in self.lines)


@dataclass(frozen=True, slots=True)
class ExternalClaim:
    """An invoice the accounting system says it posted for an order (RegisterExternalInvoice).

    It names its order by salesflow's id, salesflow's number or the ERP's number (at least one).
    """

    external_invoice_id: str
    invoice_number: str
    order_id: UUID | None
    deal_id: str
    currency: str
    totals: money.DocumentTotals
    issue_date: date
    due_date: date
    command_event_id: UUID
    received_at: datetime
    # (order line, quantity, net given, tax given); None: everything not billed yet
    lines: tuple[tuple[int, Decimal, Decimal | None, Decimal | None], ...] | None = None
    order_number: str | None = None
    erp_order_number: str | None = None
    # When a tick raised the stale hand-off alert for it (once).
    alerted_at: datetime | None = None

    def names(self, order: Order) -> bool:
        """Whether the claim names `order`, by any of the names it gave."""
        given = (self.order_id, self.order_number, self.erp_order_number)
        own = (order.order_id, order.order_number, order.erp_order_number)
        return any(name is not None and name == it for name, it in zip(given, own, strict=True))


@dataclass(frozen=True, slots=True)
class LineCredit:
    quantity: Decimal
    amounts: money.LineAmounts


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: UUID
    invoice_number: str
    order_id: UUID
    deal_id: str
    account_id: UUID
    account_name: str
    source: InvoiceSource
    external_invoice_id: str | None
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    payment_terms: str
    issue_date: date
    due_date: date
    state: InvoiceState
    created_at: datetime
    updated_at: datetime
    kind: InvoiceKind = InvoiceKind.STANDARD
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    credit_applied: Decimal = ZERO
    moved_to_credit: Decimal = ZERO
    credited_lines: Mapping[int, LineCredit] = field(default_factory=dict)
    credited_rates: RateAmounts = field(default_factory=dict)
    payment_status: PaymentStatus | None = None
    cancel_reason: str | None = None
    # Down payment deducted from this invoice (informational; the money moved by a credit note
    # on the down payment invoice and the credit applied here): (dp invoice, number, rate, net,
    # tax)
    deductions: tuple[tuple[UUID, str, Decimal, Decimal, Decimal], ...] = ()
    # Dunning (`decisions.dunning`): the date a tick found it overdue and announced it, and the
    # highest reminder level sent; both kept so each is sent once, whatever is redelivered.
    overdue_on: date | None = None
    dunning_level: int = 0

    @property
    def balance_due(self) -> Decimal:
        return (
            self.totals.grand_total
            - self.amount_credited
            - self.amount_paid
            - self.credit_applied
            + self.moved_to_credit
        )

    @property
    def creditable(self) -> Decimal:
        return self.totals.grand_total - self.amount_credited

    def creditable_rates(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        return sub_rates(by_rate(self.lines), self.credited_rates)

    def line(self, line_no: int) -> Line | None:
        return next((line for line in self.lines if line.line_no == line_no), None)

    def credited_of(self, line: Line) -> LineCredit:
        return self.credited_lines.get(line.line_no) or LineCredit(
            ZERO, money.zero_amounts(self.currency)
        )

    def settled(self, now: datetime) -> Invoice:
        """The invoice's state after its money changed."""
        if self.creditable <= 0:
            return replace(self, state=InvoiceState.CANCELED, payment_status=None, updated_at=now)
        if self.amount_paid > 0 or self.credit_applied > 0:
            status = PaymentStatus.COMPLETE if self.balance_due <= 0 else PaymentStatus.PARTIAL
            return replace(self, state=InvoiceState.PAID, payment_status=status, updated_at=now)
        return replace(self, state=InvoiceState.ACTIVE, payment_status=None, updated_at=now)


@dataclass(frozen=True, slots=True)
class CreditNote:
    credit_note_id: UUID
    credit_note_number: str
    invoice_id: UUID
    order_id: UUID
    deal_id: str
    account_id: UUID
    source: InvoiceSource
    external_credit_note_id: str | None
    credit_ref: str | None
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    reason: str
    issue_date: date
    created_at: datetime
    # the order lines and quantities it takes back (line credits of a standard invoice)
    order_lines: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    method: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceCounter:
    """The last number given out in one year; advanced only together with the document."""

    year: int
    last: int

    def advance(self) -> InvoiceCounter:
        return InvoiceCounter(self.year, self.last + 1)


def invoice_id_for(order_id: UUID, piece: str = "") -> UUID:
    """The order's invoice (on_order), or its piece: `shipment:<ref>`, `down_payment`."""
    return uuid5(_ID_NAMESPACE, f"invoice:{order_id}" + (f":{piece}" if piece else ""))


def credit_note_id_for(invoice_id: UUID, ref: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"credit_note:{invoice_id}:{ref}")


def invoice_number(prefix: str, counter: InvoiceCounter) -> str:
    return f"{prefix}-{counter.year}-{counter.last:06d}"


def due_date(issue_date: date, payment_terms: str) -> date:
    return issue_date + timedelta(days=TERM_DAYS[payment_terms])
