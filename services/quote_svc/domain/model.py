"""quote_svc's domain values: the opportunity, its quotes, price lists and quote lines
(what a decision returns is in `decisions.outcomes`).

Pure: standard library and `contracts.money` only. States follow Dynamics 365: an opportunity
is Open until Won or Lost; a quote is Draft -> Active -> Won | Closed (revised, lost, canceled,
expired). The decisions over these values, pricing included, live in `decisions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from contracts.money import DocumentTotals, LineAmounts, price_line, sum_totals
from services.quote_svc.domain.parties import Account, CustomerDetails

# Quote ids are derived from the opportunity and the revision: a replayed decision mints the
# same id, and UNIQUE(opportunity_id, revision) agrees with the primary key.
_ID_NAMESPACE = UUID("3f0c8a52-6d1e-4b8e-9c27-5a41e0b7d913")

DEFAULT_UNIT = "each"

# An opportunity's probability while it is developed, and once a quote went out.
PROBABILITY_OPEN = 20
PROBABILITY_PROPOSED = 40


class OpportunityState(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class QuoteState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    WON = "won"
    CLOSED = "closed"


class CloseStatus(StrEnum):
    REVISED = "revised"
    LOST = "lost"
    CANCELED = "canceled"
    EXPIRED = "expired"


class RejectReason(StrEnum):
    LOST = "lost"
    CANCELED = "canceled"


class BillingPolicy(StrEnum):
    """How the order of an accepted quote is billed (the contract's InvoicingPolicy): all at
    confirmation, per shipment, or a down payment first and then per shipment."""

    ON_ORDER = "on_order"
    ON_DELIVERY = "on_delivery"
    DOWN_PAYMENT = "down_payment"


@dataclass(frozen=True, slots=True)
class PriceItem:
    """One item of one price list, as the product master last published it."""

    price_list_id: str
    sku: str
    description: str
    unit_price: Decimal
    currency: str
    tax_rate: Decimal
    unit: str
    active: bool


# The items of ONE price list by sku: what pricing looks at.
Catalog = Mapping[str, PriceItem]


@dataclass(frozen=True, slots=True)
class VolumeList:
    """The volume discount tiers of one item of one price list, as the ERP last published
    them: (min quantity, discount rate), ascending."""

    price_list_id: str
    sku: str
    tiers: tuple[tuple[Decimal, Decimal], ...]

    def rate_for(self, quantity: Decimal) -> Decimal:
        """The rate of the highest tier `quantity` reaches (0 below the first)."""
        reached = [rate for minimum, rate in self.tiers if quantity >= minimum]
        return reached[-1] if reached else Decimal(0)


# The volume discount lists of ONE price list by sku.
Volumes = Mapping[str, VolumeList]


@dataclass(frozen=True, slots=True)
class DocumentDiscount:
    """A quote-level discount: a rate of the lines' net sum and/or an amount (they add up),
    allocated to the lines by `contracts.money.allocate`."""

    rate: Decimal | None = None
    amount: Decimal | None = None

    @property
    def given(self) -> bool:
        return bool(self.rate) or bool(self.amount)


@dataclass(frozen=True, slots=True)
class LineRequest:
    """A line as asked for: a lead's product interest, or a line a person entered on revision."""

    sku: str | None
    quantity: Decimal
    description: str | None = None
    unit_price: Decimal | None = None
    discount_amount: Decimal = Decimal(0)
    tax_rate: Decimal | None = None
    discount_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A line on a quote. `unit_price` None: a write-in that still needs a price."""

    line_no: int
    sku: str | None
    description: str
    write_in: bool
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    # The line's whole discount (its own, its volume tier's and its share of a quote-level
    # discount), by the discount rule of `contracts.money`: what every document carries.
    discount_amount: Decimal
    tax_rate: Decimal
    # How it was made (for people reading the quote): the line's own rate, its volume rate.
    discount_rate: Decimal | None = None
    volume_rate: Decimal | None = None

    @property
    def priced(self) -> bool:
        return self.unit_price is not None

    def amounts(self, currency: str) -> LineAmounts | None:
        """Rounded amounts by the one pricing rule, or None while the line has no price."""
        if self.unit_price is None:
            return None
        return price_line(
            self.quantity, self.unit_price, self.discount_amount, self.tax_rate, currency
        )


def totals_of(lines: Iterable[QuoteLine], currency: str) -> DocumentTotals:
    """Sums of the priced lines (all of them on a quote that can be issued)."""
    amounts = [a for a in (line.amounts(currency) for line in lines) if a is not None]
    return sum_totals(amounts, currency)


@dataclass(frozen=True, slots=True)
class Contact:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """Who the quotes are for, as the lead's qualification linked them."""

    account_id: UUID
    account_name: str
    contact_id: UUID
    contact: Contact


@dataclass(frozen=True, slots=True)
class Qualification:
    """What a qualified lead brings to open an opportunity."""

    lead_id: str
    opportunity_id: UUID
    topic: str
    customer: Customer
    currency: str
    interests: tuple[LineRequest, ...]
    estimated_revenue: Decimal | None = None
    estimated_close_date: date | None = None
    # Lineage the opportunity keeps (an opportunity event may carry it later).
    source: str | None = None
    campaign_id: str | None = None
    notes: str | None = None
    # The account's master data as the lead knew it at qualification, at its version (FROM_LEAD
    # when the lead gave none).
    account: Account | None = None


@dataclass(frozen=True, slots=True)
class QuotePolicy:
    """Settings that shape quotes; see `settings.QuoteSettings`."""

    price_list_id: str = "STANDARD"
    validity_days: int = 30
    payment_terms: str = "net_30"
    auto_activate: bool = True
    default_tax_rate: Decimal = Decimal(0)
    # On expiry by a tick: False keeps the opportunity open (a person may revise the quote).
    expiry_closes_opportunity: bool = False
    # The company's base currency (documents carry their totals in it), and the price list of
    # each other currency a lead may come in: (currency, price list id).
    base_currency: str = "EUR"
    currency_lists: tuple[tuple[str, str], ...] = ()

    def price_list_for(self, currency: str) -> str:
        """The price list a lead in `currency` is quoted from: its currency's, else the
        default list (and the lead's amounts are converted)."""
        return dict(self.currency_lists).get(currency, self.price_list_id)


@dataclass(frozen=True, slots=True)
class Opportunity:
    opportunity_id: UUID
    lead_id: str
    topic: str
    customer: Customer
    currency: str
    state: OpportunityState
    status_reason: str
    estimated_revenue: Decimal
    # False: estimated revenue follows the latest quote's net total (D365 "system calculated").
    revenue_given: bool
    estimated_close_date: date
    probability: int
    pipeline_phase: str
    opened_at: datetime
    updated_at: datetime
    actual_revenue: Decimal | None = None
    closed_at: datetime | None = None
    source: str | None = None
    campaign_id: str | None = None
    notes: str | None = None
    # D365: pipeline, best_case, committed, omitted, won, lost.
    forecast_category: str = "pipeline"
    # Set when a person closes it: the day it closed, and who won instead (Lost).
    close_date: date | None = None
    competitor: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is OpportunityState.OPEN

    def proposed(self, quote: Quote, now: datetime) -> Opportunity:
        """A quote went out: the opportunity is in the propose phase, its revenue follows the
        quote."""
        return replace(
            self,
            pipeline_phase="propose",
            probability=max(self.probability, PROBABILITY_PROPOSED),
            estimated_revenue=self.estimated_revenue
            if self.revenue_given
            else quote.totals().net_total,
            updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class Quote:
    quote_id: UUID
    opportunity_id: UUID
    lead_id: str
    revision: int
    quote_number: str
    state: QuoteState
    status_reason: str
    price_list_id: str
    currency: str
    lines: tuple[QuoteLine, ...]
    created_at: datetime
    updated_at: datetime
    payment_terms: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    customer_po: str | None = None
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    # Taken when the revision is issued (`activated`); None while it is a draft, and on quotes
    # issued before quotes carried them.
    customer_details: CustomerDetails | None = None
    # The quote-level discount asked for, and the amount it came to (in the lines' discounts).
    quote_discount_rate: Decimal | None = None
    quote_discount_amount: Decimal | None = None
    # Taken on issue: the base currency, the rate of the day to it, and that day.
    base_currency: str | None = None
    exchange_rate: Decimal | None = None
    rate_date: date | None = None

    @property
    def fully_priced(self) -> bool:
        """Issuable: at least one line and a price on every line."""
        return bool(self.lines) and all(line.priced for line in self.lines)

    @property
    def is_open(self) -> bool:
        return self.state in (QuoteState.DRAFT, QuoteState.ACTIVE)

    def totals(self) -> DocumentTotals:
        return totals_of(self.lines, self.currency)

    def activated(
        self,
        policy: QuotePolicy,
        now: datetime,
        customer: CustomerDetails,
        rate: tuple[Decimal, date] | None = None,
    ) -> Quote:
        """Issued: valid from today for the policy's days, on the policy's payment terms, with
        the customer details of this moment (a snapshot of the account) and the rate of the
        day to the base currency (`rate`: rate and its day; None only where the quote is in
        the base currency)."""
        valid_from = now.date()
        exchange_rate, rate_date = rate or (Decimal(1), valid_from)
        return replace(
            self,
            base_currency=policy.base_currency,
            exchange_rate=exchange_rate,
            rate_date=rate_date,
            state=QuoteState.ACTIVE,
            status_reason="open",
            payment_terms=policy.payment_terms,
            valid_from=valid_from,
            valid_until=valid_from + timedelta(days=policy.validity_days),
            updated_at=now,
            customer_details=customer,
        )

    def closed_as(self, status: CloseStatus, now: datetime) -> Quote:
        return replace(
            self, state=QuoteState.CLOSED, status_reason=status.value, updated_at=now, closed_at=now
        )


def quote_id_for(opportunity_id: UUID, revision: int) -> UUID:
    """The id of revision `revision` of the opportunity's first quote (the lead's)."""
    return uuid5(_ID_NAMESPACE, f"quote:{opportunity_id}:{revision}")


def next_revision_id(quote: Quote) -> UUID:
    """The id of the revision after `quote`: derived, so a replayed revision mints the same id.
    The first quote keeps its historic derivation; another quote of the opportunity (created by
    a person, its first id chosen by them) derives from the revision it supersedes."""
    if quote.quote_id == quote_id_for(quote.opportunity_id, quote.revision):
        return quote_id_for(quote.opportunity_id, quote.revision + 1)
    return uuid5(_ID_NAMESPACE, f"quote:{quote.quote_id}:next")


def format_quote_number(year: int, seq: int) -> str:
    return f"Q-{year}-{seq:05d}"


@dataclass(frozen=True, slots=True)
class BillingTerms:
    """How the customer agreed, on accepting, to be billed. None: the deployment's default
    (invoice_svc's settings), so an acceptance that says nothing changes nothing downstream.

    Carried from the acceptance to `quote.accepted` and kept by the order, not by the quote:
    billing is the order's business, and a won quote is never published again.
    """

    policy: BillingPolicy | None = None
    # Share of the order billed at confirmation under the down payment policy, 0 < rate < 1.
    down_payment_rate: Decimal | None = None

    def contradiction(self) -> str | None:
        """Why these terms cannot both hold, or None. A rate means a down payment: with another
        policy named it would be silently dropped downstream, so the acceptance is refused."""
        if self.down_payment_rate is None or self.policy in (None, BillingPolicy.DOWN_PAYMENT):
            return None
        return (
            f"a down payment rate ({self.down_payment_rate}) was given with the "
            f"{self.policy.value} invoicing policy"
        )
