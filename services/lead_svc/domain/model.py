"""lead_svc's domain values: the lead, its profile, its lineage, the policy and the directory.

Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID


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

    # Derived once at construction: the duplicate check reads these keys for every candidate
    # of every lead in a batch, and folding text (NFKD, regex) on each read was ~15 % of
    # lead_svc's CPU. Not part of equality or repr: they follow from the fields above.
    reachable: bool = field(init=False, repr=False, compare=False)
    email_key: str | None = field(init=False, repr=False, compare=False)
    company_key: str | None = field(init=False, repr=False, compare=False)
    name_key: str | None = field(init=False, repr=False, compare=False)
    """Company and contact name, the second duplicate-detection rule."""

    def __post_init__(self) -> None:
        email = (self.email or "").strip().casefold()
        company = normalise_company(self.company_name)
        person = _fold(f"{self.first_name} {self.last_name}")
        derived = {
            "reachable": bool(email or (self.phone or "").strip()),
            "email_key": email or None,
            "company_key": company,
            "name_key": f"{company}|{person}" if company and person else None,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


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
    """Rules applied when a lead is captured; each may be switched off by configuration."""

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

    def fit(self, profile: Profile) -> str | None:
        """The rule that qualifies the profile automatically, or None when a person decides."""
        if not self.auto_qualify or not profile.reachable:
            return None
        if self.require_company and not profile.company_key:
            return None
        if self.require_interest and not profile.interests:
            return None
        if self.min_budget > 0 and (profile.budget_amount or Decimal(0)) < self.min_budget:
            return None
        if profile.purchase_timeframe not in self.qualifying_timeframes:
            return None
        return "auto:fit"


@dataclass(frozen=True, slots=True)
class Directory:
    """What qualification may link to: accounts by normalised company name, contacts by email."""

    accounts: dict[str, tuple[UUID, str]] = field(default_factory=dict)
    contacts: dict[str, UUID] = field(default_factory=dict)


_LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "bv",
        "nv",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "oy",
        "ab",
        "as",
        "spa",
        "srl",
        "kg",
    }
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NON_ALNUM.sub(" ", ascii_text.casefold()).split())


def normalise_company(name: str | None) -> str | None:
    """'ACME, Inc.' and 'Acme Inc' are one account: fold case, accents, punctuation, suffixes."""
    if not name:
        return None
    words = _fold(name).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words) or None
