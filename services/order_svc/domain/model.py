"""The order's values: the order itself, what it is made from, its numbering, and its billing (what
the decisions return is in `decisions.outcomes`).

Pure: standard library and `contracts.money` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID, uuid5

from contracts.money import DocumentTotals, LineAmounts
from services.order_svc.domain.parties import CustomerDetails

# Ids salesflow mints are derived from stable inputs: the order of a quote is always the same id,
# whichever worker (or replay) creates it.
_ID_NAMESPACE = UUID("0c6f3a2e-5d41-4b8e-9a7c-3e2f1d0b9a81")

ACCEPTED = "quote.accepted"
CANCEL = "order.cancel"
RECORD_FULFILMENT = "order.record_fulfilment"


class OrderState(StrEnum):
    SUBMITTED = "submitted"
    # The ERP booked the order under its own number (`erp.acknowledge`).
    ACKNOWLEDGED = "acknowledged"
    # The ERP could not book it: to be corrected and resubmitted, or cancelled.
    REFUSED_BY_ERP = "refused_by_erp"
    FULFILLED = "fulfilled"
    CANCELED = "canceled"
    INVOICED = "invoiced"


class Completeness(StrEnum):
    PARTIAL = "partial"
    COMPLETE = "complete"


class BillingPolicy(StrEnum):
    """How the order is billed (the contract's InvoicingPolicy), when the customer agreed
    otherwise than the deployment's default; invoice_svc applies it."""

    ON_ORDER = "on_order"
    ON_DELIVERY = "on_delivery"
    DOWN_PAYMENT = "down_payment"


class BillingStatus(StrEnum):
    """How much of the order is invoiced, net of credit notes (Odoo: invoice status)."""

    NOT_INVOICED = "not_invoiced"
    PARTLY_INVOICED = "partly_invoiced"
    FULLY_INVOICED = "fully_invoiced"


class InvoiceKind(StrEnum):
    """A standard invoice bills order lines (its line_no is the order's); a down payment bills
    a share of the order per tax rate and so no quantity of any line."""

    STANDARD = "standard"
    DOWN_PAYMENT = "down_payment"


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
class BillingTerms:
    """The billing the customer agreed on accepting the quote; None: the deployment's default.

    Kept on the order and repeated on `order.confirmed` as given: a rate without the down
    payment policy is not this service's to judge (quote_svc refuses such an acceptance; an
    outside producer's is passed on, and invoice_svc uses a rate only under that policy).
    """

    policy: BillingPolicy | None = None
    down_payment_rate: Decimal | None = None


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
    billing: BillingTerms = field(default_factory=BillingTerms)
    customer_details: CustomerDetails | None = None
    requested_delivery_date: date | None = None
    shipping_method: str | None = None
    base: BaseRate | None = None


@dataclass(frozen=True, slots=True)
class BaseRate:
    """The base currency and the rate of the quote's day to it, kept for the order's documents."""

    base_currency: str
    exchange_rate: Decimal
    rate_date: date


@dataclass(frozen=True, slots=True)
class ErpRefusal:
    """Why the ERP could not book the order, as it said."""

    reason_code: str
    detail: str


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    invoice_id: UUID
    invoice_number: str
    # Set once an invoice.paid for it was seen (any amount). It holds nothing back: a canceled
    # order's invoices are credited by invoice_svc and money received becomes a refund due.
    paid: bool = False


@dataclass(frozen=True, slots=True)
class PostedInvoice:
    """An invoice posted for the order, as far as the order's billing is concerned."""

    invoice_id: UUID
    invoice_number: str
    kind: InvoiceKind
    # (order line number, quantity billed); may name a line twice. Down payments: ignored.
    lines: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A credit note issued for one of the order's invoices: the quantities it takes back."""

    credit_note_id: UUID
    credit_note_number: str
    invoice_id: UUID
    # (order line number, quantity credited); empty for a credit of an amount or of a down
    # payment, which takes back no quantity.
    lines: tuple[tuple[int, Decimal], ...] = ()


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
    billing: BillingTerms = field(default_factory=BillingTerms)
    # Quantity per line number billed by standard invoices, and taken back by credit notes. Kept
    # apart, each only growing, so that the result does not depend on the order of arrival:
    # invoices and credit notes come on two topics, and a credit note may be read first.
    invoiced: Mapping[int, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    credited: Mapping[int, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    # Credit notes applied (invoices applied are `invoices`): a document resent under a new
    # event id counts once.
    credit_notes: frozenset[UUID] = frozenset()
    # From the quote (None on orders made before quotes carried them); corrected on resubmission.
    customer_details: CustomerDetails | None = None
    requested_delivery_date: date | None = None
    shipping_method: str | None = None
    # The ERP's own number once it booked the order; its refusal while one is pending.
    erp_order_number: str | None = None
    erp_refusal: ErpRefusal | None = None
    # When a tick raised the alert that the ERP had not acknowledged it in time (once).
    ack_alerted_at: datetime | None = None
    # From the quote: the base currency and the rate its totals are converted at.
    base: BaseRate | None = None

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

    def shipped_of(self, line_no: int) -> Decimal:
        return self.shipped.get(line_no, Decimal(0))

    def invoiced_of(self, line_no: int) -> Decimal:
        """Invoiced less credited; never below zero, which only a credit note read before its
        invoice would give for a while."""
        net = self.invoiced.get(line_no, Decimal(0)) - self.credited.get(line_no, Decimal(0))
        return max(net, Decimal(0))

    @property
    def billing_status(self) -> BillingStatus:
        """Fully invoiced once every line is invoiced to its ordered quantity."""
        net = [(line.quantity, self.invoiced_of(line.line_no)) for line in self.lines]
        if all(invoiced >= ordered for ordered, invoiced in net):
            return BillingStatus.FULLY_INVOICED
        if any(invoiced > 0 for _, invoiced in net):
            return BillingStatus.PARTLY_INVOICED
        return BillingStatus.NOT_INVOICED

    def settled(self) -> Order:
        """The order in the state its facts give: Canceled stays Canceled; a refusal by the ERP
        shows until the order is resubmitted (or acknowledged after all); otherwise Invoiced once
        fully invoiced, Fulfilled once anything shipped, Acknowledged once the ERP booked it,
        else Submitted. A credit note can so take an order back from Invoiced, and a shipment
        never hides that it is invoiced. (A refused order takes no shipment: `record_fulfilment`.)
        """
        if self.state is OrderState.CANCELED:
            return self
        if self.erp_refusal is not None:
            state = OrderState.REFUSED_BY_ERP
        elif self.billing_status is BillingStatus.FULLY_INVOICED:
            state = OrderState.INVOICED
        elif self.completeness is not None:
            state = OrderState.FULFILLED
        elif self.erp_order_number is not None:
            state = OrderState.ACKNOWLEDGED
        else:
            state = OrderState.SUBMITTED
        return self if state is self.state else replace(self, state=state)


@dataclass(frozen=True, slots=True)
class OrderCounter:
    """The last order number given out in one year; advanced only together with a new order."""

    year: int
    last: int

    def advance(self) -> OrderCounter:
        return OrderCounter(self.year, self.last + 1)


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
    """What order_svc's handlers are configured with (`OrderSettings.policy()`): the numbering,
    and when an unacknowledged order is stale."""

    numbering: Numbering = field(default_factory=Numbering)
    # Hours a confirmed order may wait for the ERP's acknowledgement before a tick raises an
    # alert; 0: never (deployments whose ERP does not acknowledge orders).
    ack_alert_hours: int = 0
