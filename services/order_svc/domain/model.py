"""The order's values: the order itself, what it is made from, its numbering, and the decisions'
outcomes.

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID, uuid5

from contracts.money import DocumentTotals, LineAmounts

# Ids salesflow mints are derived from stable inputs: the order of a quote is always the same id,
# whichever worker (or replay) creates it.
_ID_NAMESPACE = UUID("0c6f3a2e-5d41-4b8e-9a7c-3e2f1d0b9a81")

ACCEPTED = "quote.accepted"
CANCEL = "order.cancel"
RECORD_FULFILMENT = "order.record_fulfilment"


class OrderState(StrEnum):
    SUBMITTED = "submitted"
    FULFILLED = "fulfilled"
    CANCELED = "canceled"
    INVOICED = "invoiced"


class Completeness(StrEnum):
    PARTIAL = "partial"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class Contact:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """Who bought, and the deal lineage the order carries to the ERP."""

    opportunity_id: UUID
    lead_id: str
    account_id: UUID
    account_name: str
    contact_id: UUID
    contact: Contact


@dataclass(frozen=True, slots=True)
class QuoteRef:
    quote_id: UUID
    quote_number: str
    revision: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A priced line; on an accepted quote its amounts are claims until recomputed."""

    line_no: int
    sku: str | None
    description: str
    write_in: bool
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    amounts: LineAmounts


@dataclass(frozen=True, slots=True)
class AcceptedQuote:
    """The document the customer accepted, as the order is made from it."""

    quote: QuoteRef
    customer: Customer
    price_list_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    totals: DocumentTotals
    payment_terms: str
    customer_po: str | None
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    invoice_id: UUID
    invoice_number: str
    # Set once an invoice.paid for it was seen (any amount): from then on the order cannot be
    # canceled, because money was received against it.
    paid: bool = False


@dataclass(frozen=True, slots=True)
class Order:
    order_id: UUID
    order_number: str
    deal_id: str
    quote: QuoteRef
    customer: Customer
    price_list_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    totals: DocumentTotals
    payment_terms: str
    customer_po: str | None
    state: OrderState
    confirmed_at: datetime
    updated_at: datetime
    # Cumulative quantity shipped per line number; absent means nothing shipped yet.
    shipped: Mapping[int, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    # Shipments already applied: the fulfilment system's natural key, so a shipment resent under
    # a new event id (which the inbox cannot recognise) is still applied once.
    shipment_refs: frozenset[str] = frozenset()
    invoices: tuple[InvoiceRef, ...] = ()
    cancel_reason: str | None = None

    @property
    def completeness(self) -> Completeness | None:
        """None before the first shipment; complete once every line shipped in full."""
        if not any(q > 0 for q in self.shipped.values()):
            return None
        if all(self.shipped.get(line.line_no, Decimal(0)) >= line.quantity for line in self.lines):
            return Completeness.COMPLETE
        return Completeness.PARTIAL

    @property
    def invoice(self) -> InvoiceRef | None:
        """The latest invoice posted for the order."""
        return self.invoices[-1] if self.invoices else None

    @property
    def paid_invoices(self) -> tuple[InvoiceRef, ...]:
        """The order's invoices against which a payment was seen."""
        return tuple(ref for ref in self.invoices if ref.paid)

    def shipped_of(self, line_no: int) -> Decimal:
        return self.shipped.get(line_no, Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderCounter:
    """The last order number given out in one year; advanced only together with a new order."""

    year: int
    last: int

    def advance(self) -> OrderCounter:
        return OrderCounter(self.year, self.last + 1)


@dataclass(frozen=True, slots=True)
class Confirmed:
    order: Order
    # The year's counter once this order took its number (`confirm_order`); None when the
    # caller gave the number itself (`place_order`).
    counter: OrderCounter | None = None


@dataclass(frozen=True, slots=True)
class Fulfilled:
    order: Order
    shipment_ref: str
    completeness: Completeness


@dataclass(frozen=True, slots=True)
class Cancelled:
    order: Order
    reason: str


@dataclass(frozen=True, slots=True)
class InvoiceLinked:
    """An invoice was recorded on the order; nothing to publish (invoice_svc told everyone)."""

    order: Order


@dataclass(frozen=True, slots=True)
class InvoiceMarkedPaid:
    """A payment was seen for one of the order's invoices; nothing to publish either."""

    order: Order
    invoice: InvoiceRef


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event that concerns no order of this service, or changes nothing."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    # None: the refused command is the message being handled (order_svc keeps no command for
    # later, so it always is).
    command_event_id: UUID | None = None


Decision = Confirmed | Fulfilled | Cancelled | InvoiceLinked | InvoiceMarkedPaid | Ignored | Refusal


def order_id_for(quote_id: UUID) -> UUID:
    """One order per accepted quote: its id is derived from the quote's."""
    return uuid5(_ID_NAMESPACE, f"order:{quote_id}")


@dataclass(frozen=True, slots=True)
class Numbering:
    """How order numbers look: `SO-2026-00042`, the year's counter zero-padded to five digits."""

    prefix: str = "SO"

    def number(self, year: int, sequence: int) -> str:
        return f"{self.prefix}-{year}-{sequence:05d}"


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    """What order_svc's handlers are configured with (`OrderSettings.policy()`): the numbering."""

    numbering: Numbering = field(default_factory=Numbering)
