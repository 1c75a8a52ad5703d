"""The lead: capture, automatic qualification policy, qualify / disqualify / reactivate.

Pure: standard library only, time and the causing event's id passed in. Decisions take values
and return the new lead plus what happened (`Qualified`, `Disqualified`) or a `Refusal` that
says why a command does not fit the lead's state. Refusals are answers, not errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

# Ids salesflow mints are derived from stable inputs, so a replayed decision mints the same ids
# and two workers that meet the same new company at once agree on its account id.
_ID_NAMESPACE = UUID("6b4f3c1e-9a53-4c44-9a0b-2f1a8d5e7c10")


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
class Qualified:
    lead: Lead
    lineage: Lineage
    decided_by: DecidedBy
    rule: str


@dataclass(frozen=True, slots=True)
class Disqualified:
    lead: Lead
    reason: DisqualifyReason
    decided_by: DecidedBy
    detail: str
    duplicate_of: str | None = None


@dataclass(frozen=True, slots=True)
class Reactivated:
    lead: Lead


@dataclass(frozen=True, slots=True)
class Captured:
    """A captured lead the policy left open for a person to decide."""

    lead: Lead


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None


Decision = Qualified | Disqualified | Reactivated | Captured | Refusal


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


def capture(
    lead_id: str,
    profile: Profile,
    *,
    existing: Lead | None,
    candidates: Iterable[Lead],
    directory: Directory,
    policy: QualificationPolicy,
    event_id: UUID,
    now: datetime,
) -> Decision:
    """A new lead: refuse a reused id, else apply the policy (disqualify, qualify or keep open)."""
    if existing is not None:
        return Refusal(
            "lead.captured", "lead_exists", f"lead {lead_id} was captured before", lead_id
        )
    lead = Lead(
        lead_id=lead_id,
        profile=profile,
        state=LeadState.OPEN,
        status_reason="new",
        captured_at=now,
        updated_at=now,
    )
    if policy.disqualify_unreachable and not profile.reachable:
        return _disqualify(
            lead, DisqualifyReason.CANNOT_CONTACT, DecidedBy.POLICY, "no email and no phone", now
        )
    if policy.disqualify_duplicates:
        original = find_duplicate(lead, candidates, active_only=True)
        if original is not None:
            return _disqualify(
                lead,
                DisqualifyReason.DUPLICATE,
                DecidedBy.POLICY,
                f"duplicate of lead {original.lead_id}",
                now,
                duplicate_of=original.lead_id,
            )
    rule = policy.fit(profile)
    if rule is not None:
        return _qualify(lead, directory, event_id, DecidedBy.POLICY, rule, now)
    return Captured(lead)


def qualify(
    lead: Lead | None,
    *,
    lead_id: str,
    candidates: Iterable[Lead],
    directory: Directory,
    event_id: UUID,
    now: datetime,
) -> Decision:
    command = "lead.qualify"
    if lead is None:
        return Refusal(command, "unknown_lead", f"no lead {lead_id}", lead_id)
    if lead.state is LeadState.QUALIFIED:
        return Refusal(command, "already_qualified", "the lead is qualified already", lead_id)
    if lead.state is LeadState.DISQUALIFIED:
        return Refusal(command, "lead_disqualified", "reactivate the lead first", lead_id)
    # Only a QUALIFIED twin blocks a person's decision: blocking on open twins as well would let
    # two open duplicates block each other forever.
    twin = find_duplicate(lead, (c for c in candidates if c.state is LeadState.QUALIFIED))
    if twin is not None:
        return Refusal(
            command, "duplicate", f"lead {twin.lead_id} with the same contact is qualified", lead_id
        )
    return _qualify(lead, directory, event_id, DecidedBy.COMMAND, "command", now)


def disqualify(
    lead: Lead | None, *, lead_id: str, reason: DisqualifyReason, detail: str, now: datetime
) -> Decision:
    command = "lead.disqualify"
    if lead is None:
        return Refusal(command, "unknown_lead", f"no lead {lead_id}", lead_id)
    if lead.state is LeadState.QUALIFIED:
        return Refusal(
            command, "opportunity_exists", "a qualified lead has an opportunity", lead_id
        )
    if lead.state is LeadState.DISQUALIFIED:
        return Refusal(command, "already_disqualified", "the lead is disqualified", lead_id)
    return _disqualify(lead, reason, DecidedBy.COMMAND, detail, now)


def reactivate(lead: Lead | None, *, lead_id: str, now: datetime) -> Decision:
    command = "lead.reactivate"
    if lead is None:
        return Refusal(command, "unknown_lead", f"no lead {lead_id}", lead_id)
    if lead.state is not LeadState.DISQUALIFIED:
        return Refusal(command, "not_disqualified", f"the lead is {lead.state}", lead_id)
    return Reactivated(
        replace(
            lead,
            state=LeadState.OPEN,
            status_reason="reactivated",
            duplicate_of=None,
            updated_at=now,
        )
    )


def find_duplicate(
    lead: Lead, candidates: Iterable[Lead], *, active_only: bool = False
) -> Lead | None:
    """The earliest other lead with the same email, or the same company and contact name."""
    email, name = lead.profile.email_key, lead.profile.name_key
    matches = [
        c
        for c in candidates
        if c.lead_id != lead.lead_id
        and (c.is_active or not active_only)
        and ((email and c.profile.email_key == email) or (name and c.profile.name_key == name))
    ]
    return min(matches, key=lambda c: (c.captured_at, c.lead_id), default=None)


def _qualify(
    lead: Lead,
    directory: Directory,
    event_id: UUID,
    decided_by: DecidedBy,
    rule: str,
    now: datetime,
) -> Qualified:
    profile = lead.profile
    company_key = profile.company_key
    if company_key and company_key in directory.accounts:
        account_id, account_name = directory.accounts[company_key]
        is_new = False
    elif company_key:
        account_id = uuid5(_ID_NAMESPACE, f"account:{company_key}")
        account_name, is_new = (profile.company_name or "").strip(), True
    else:
        # A person buying for themselves: the account is the person, minted per lead.
        account_id = uuid5(_ID_NAMESPACE, f"account:lead:{lead.lead_id}")
        account_name, is_new = f"{profile.first_name} {profile.last_name}".strip(), True
    email = profile.email_key
    contact_id = directory.contacts.get(email) if email else None
    if contact_id is None:
        contact_id = uuid5(_ID_NAMESPACE, f"contact:{email}" if email else f"contact:{event_id}")
    lineage = Lineage(
        account_id=account_id,
        account_name=account_name,
        account_is_new=is_new,
        contact_id=contact_id,
        opportunity_id=uuid5(_ID_NAMESPACE, f"opportunity:{lead.lead_id}"),
    )
    qualified = replace(
        lead, state=LeadState.QUALIFIED, status_reason="qualified", lineage=lineage, updated_at=now
    )
    return Qualified(qualified, lineage, decided_by, rule)


def _disqualify(
    lead: Lead,
    reason: DisqualifyReason,
    decided_by: DecidedBy,
    detail: str,
    now: datetime,
    duplicate_of: str | None = None,
) -> Disqualified:
    closed = replace(
        lead,
        state=LeadState.DISQUALIFIED,
        status_reason=reason.value,
        duplicate_of=duplicate_of,
        updated_at=now,
    )
    return Disqualified(closed, reason, decided_by, detail, duplicate_of)


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
