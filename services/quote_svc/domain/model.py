"""The opportunity, its quotes and the values they are made of (pure, standard library only).

States follow Dynamics 365: an opportunity is Open until Won or Lost; a quote is Draft ->
Active -> Won | Closed (revised, lost, canceled, expired). The decisions live in `domain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from contracts.money import DocumentTotals
from services.quote_svc.pricing import LineRequest, QuoteLine, totals_of


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


@dataclass(frozen=True, slots=True)
class QuotePolicy:
    """Settings that shape quotes; see `settings.QuoteSettings`."""

    price_list_id: str = "STANDARD"
    validity_days: int = 30
    payment_terms: str = "net_30"
    auto_activate: bool = True
    default_tax_rate: Decimal = Decimal(0)


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

    @property
    def fully_priced(self) -> bool:
        """Issuable: at least one line and a price on every line."""
        return bool(self.lines) and all(line.priced for line in self.lines)

    @property
    def is_open(self) -> bool:
        return self.state in (QuoteState.DRAFT, QuoteState.ACTIVE)

    def totals(self) -> DocumentTotals:
        return totals_of(self.lines, self.currency)
