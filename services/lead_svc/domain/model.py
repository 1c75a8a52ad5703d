"""lead_svc's domain values: the lead, its profile, the policy.

Pure: standard library only. The people and companies it names, the accounts and contacts
qualification links, and the folding that matches them live in `parties`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from services.lead_svc.domain.parties import Person, fold, fold_email, normalise_company


class LeadState(StrEnum):
    OPEN = "open"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"


class DisqualifyReason(StrEnum):
    LOST = "lost"
    CANNOT_CONTACT = "cannot_contact"
    NO_LONGER_INTERESTED = "no_longer_interested"
    CANCELED = "canceled"
    DUPLICATE = "duplicate"


class DecidedBy(StrEnum):
    POLICY = "policy"
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class Interest:
    sku: str
    quantity: Decimal
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """What the upstream system captured about the prospect."""

    source: str
    topic: str
    first_name: str
    last_name: str
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None
    budget_amount: Decimal | None = None
    currency: str = "USD"
    purchase_timeframe: str = "unknown"
    interests: tuple[Interest, ...] = ()
    estimated_amount: Decimal | None = None
    estimated_close_date: date | None = None
    notes: str | None = None
    campaign_id: str | None = None

    # Derived once at construction: the duplicate check reads these keys for every candidate
    # of every lead in a batch, and folding text on each read was ~15 % of lead_svc's CPU.
    # Not part of equality or repr: they follow from the fields above.
    reachable: bool = field(init=False, repr=False, compare=False)
    email_key: str | None = field(init=False, repr=False, compare=False)
    company_key: str | None = field(init=False, repr=False, compare=False)
    name_key: str | None = field(init=False, repr=False, compare=False)
    """Company and contact name, the second duplicate-detection rule."""

    def __post_init__(self) -> None:
        email = fold_email(self.email)
        company = normalise_company(self.company_name)
        person = fold(f"{self.first_name} {self.last_name}")
        derived = {
            "reachable": bool(email or (self.phone or "").strip()),
            "email_key": email,
            "company_key": company,
            "name_key": f"{company}|{person}" if company and person else None,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def person(self) -> Person:
        return Person(self.first_name, self.last_name, self.email, self.phone, self.job_title)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """An update of an open lead: None leaves a field as it is; `person` replaces all the
    contact's details at once (a form sends the person whole)."""

    company_name: str | None = None
    person: Person | None = None
    topic: str | None = None
    budget_amount: Decimal | None = None
    purchase_timeframe: str | None = None
    interests: tuple[Interest, ...] | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Lineage:
    """The records qualification created or linked (the lead keeps their ids)."""

    account_id: UUID
    account_name: str
    account_is_new: bool
    contact_id: UUID
    opportunity_id: UUID


@dataclass(frozen=True, slots=True)
class Lead:
    lead_id: str
    profile: Profile
    state: LeadState
    status_reason: str
    captured_at: datetime
    updated_at: datetime
    lineage: Lineage | None = None
    duplicate_of: str | None = None

    @property
    def is_active(self) -> bool:
        """Open or qualified: the leads a new one may duplicate."""
        return self.state is not LeadState.DISQUALIFIED


@dataclass(frozen=True, slots=True)
class QualificationPolicy:
    """Rules applied when a lead is captured or updated; each may be switched off."""

    auto_qualify: bool = True
    require_company: bool = True
    require_interest: bool = True
    min_budget: Decimal = Decimal("0")
    qualifying_timeframes: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"immediate", "this_quarter", "next_quarter", "this_year"}
        )
    )
    disqualify_unreachable: bool = True
    disqualify_duplicates: bool = True

    def gaps(self, profile: Profile) -> tuple[str, ...]:
        """What keeps the profile from qualifying automatically (empty: it fits every rule)."""
        if not self.auto_qualify:
            return ("a_person_decides",)
        missing = []
        if not profile.reachable:
            missing.append("email_or_phone")
        if self.require_company and not profile.company_key:
            missing.append("company")
        if self.require_interest and not profile.interests:
            missing.append("product_interest")
        if self.min_budget > 0 and (profile.budget_amount or Decimal(0)) < self.min_budget:
            missing.append("budget")
        if profile.purchase_timeframe not in self.qualifying_timeframes:
            missing.append("purchase_timeframe")
        return tuple(missing)

    def fit(self, profile: Profile) -> str | None:
        """The rule that qualifies the profile automatically, or None when a person decides."""
        return None if self.gaps(profile) else "auto:fit"
