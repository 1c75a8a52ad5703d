"""invoice_svc's domain values: orders as remembered, invoices, payments, ERP claims, counters.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from contracts import money

# Invoice ids are derived from the order id: one invoice per order in either mode, and a replayed
# decision mints the same id.
_ID_NAMESPACE = UUID("2f0c7a9e-4d1b-4e6a-8b3c-5a9d7e1f0c42")

TERM_DAYS: dict[str, int] = {
    "due_on_receipt": 0,
    "net_15": 15,
    "net_30": 30,
    "net_45": 45,
    "net_60": 60,
}


class InvoicingMode(StrEnum):
    """Who bills: invoice_svc from the order (native) or the accounting system (external)."""

    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceSource(StrEnum):
    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceState(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELED = "canceled"


class PaymentStatus(StrEnum):
    """Status reason of a Paid invoice (D365): Partial while a balance is due."""

    PARTIAL = "partial"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class InvoicingPolicy:
    mode: InvoicingMode = InvoicingMode.NATIVE
    number_prefix: str = "INV"


@dataclass(frozen=True, slots=True)
class Line:
    """One priced document line, copied unchanged from the order."""

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


@dataclass(frozen=True, slots=True)
class Order:
    """What invoice_svc remembers of a confirmed order (and whether it was cancelled since)."""

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
    cancelled: bool = False
    cancel_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalClaim:
    """An invoice the accounting system says it posted for an order (RegisterExternalInvoice)."""

    external_invoice_id: str
    invoice_number: str
    order_id: UUID
    deal_id: str
    currency: str
    totals: money.DocumentTotals
    issue_date: date
    due_date: date
    command_event_id: UUID
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: UUID
    invoice_number: str
    order_id: UUID
    deal_id: str
    source: InvoiceSource
    external_invoice_id: str | None
    currency: str
    lines: tuple[Line, ...]
    totals: money.DocumentTotals
    payment_terms: str
    issue_date: date
    due_date: date
    state: InvoiceState
    amount_paid: Decimal
    balance_due: Decimal
    created_at: datetime
    updated_at: datetime
    payment_status: PaymentStatus | None = None
    cancel_reason: str | None = None

    @property
    def has_payments(self) -> bool:
        # Payments are positive, so any recorded payment shows in the amount paid.
        return self.amount_paid > 0


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
    """The last number given out in one year; advanced only together with a posted invoice."""

    year: int
    last: int

    def advance(self) -> InvoiceCounter:
        return InvoiceCounter(self.year, self.last + 1)


def invoice_id_for(order_id: UUID) -> UUID:
    return uuid5(_ID_NAMESPACE, f"invoice:{order_id}")


def invoice_number(prefix: str, counter: InvoiceCounter) -> str:
    return f"{prefix}-{counter.year}-{counter.last:06d}"


def due_date(issue_date: date, payment_terms: str) -> date:
    return issue_date + timedelta(days=TERM_DAYS[payment_terms])
