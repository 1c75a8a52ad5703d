"""lead_svc's domain values: the lead, its profile, the policy, and the accounts and contacts
qualification links (master data, with the fields each system owns).

Pure: standard library only. Text folding for matching lives in `folding`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final
from uuid import UUID

from services.lead_svc.domain.folding import fold, fold_email, normalise_company


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
class Person:
    """A contact's own details, as captured or sent by a CRM."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


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


# --- master data ----------------------------------------------------------------------------

# Names on the wire are at most 200 characters (contracts' ShortText); a person's own account is
# named after them, and first and last name may each be that long.
NAME_LIMIT: Final = 200


class Authority(StrEnum):
    """The system a master-data command comes from."""

    CRM = "crm"
    ERP = "erp"


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class AccountData:
    """An account's master data. On a command, None means "not sent" (left as it is)."""

    name: str | None = None
    legal_name: str | None = None
    tax_id: str | None = None
    erp_customer_number: str | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    default_currency: str | None = None
    payment_terms: str | None = None

    def sent(self) -> dict[str, object]:
        """The fields given a value, by name."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in values if value is not None}


# Who owns which field when a CRM and the ERP both send updates (README "Master data"). The ERP
# bills, so it owns what an invoice needs; sales owns how the customer is named and reached.
FIELD_OWNERS: Final[Mapping[str, Authority]] = MappingProxyType(
    {
        "name": Authority.CRM,
        "ship_to": Authority.CRM,
        "legal_name": Authority.ERP,
        "tax_id": Authority.ERP,
        "erp_customer_number": Authority.ERP,
        "bill_to": Authority.ERP,
        "default_currency": Authority.ERP,
        "payment_terms": Authority.ERP,
    }
)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: UUID
    data: AccountData
    version: int = 1
    personal: bool = False
    """A person's own account (a lead without a company): never matched by name."""
    set_by: Mapping[str, Authority] = field(default_factory=dict)
    """Which system set each field last: a field is kept from the other system only when its
    owner set it (FIELD_OWNERS)."""

    @property
    def display_name(self) -> str:
        return self.data.name or self.data.legal_name or ""

    @property
    def company_key(self) -> str | None:
        """What qualification matches a lead's company against."""
        return None if self.personal else normalise_company(self.display_name)


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: UUID
    account_id: UUID
    person: Person

    @property
    def email_key(self) -> str | None:
        return fold_email(self.person.email)


@dataclass(frozen=True, slots=True)
class Directory:
    """What qualification may link to: accounts by normalised company name, contacts by email,
    and both by the id qualification would mint (the record may carry another name since)."""

    accounts: dict[str, Account] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    accounts_by_id: dict[UUID, Account] = field(default_factory=dict)
    contacts_by_id: dict[UUID, Contact] = field(default_factory=dict)
