"""lead_svc's decisions on leads: capture under the qualification policy, update, qualify,
disqualify, reactivate.

Pure: standard library only, time and the causing event's id passed in. Decisions take values
and return the new lead plus what happened (`Qualified`, `Disqualified`, ...) or a `Refusal` that
says why a message does not fit the lead's state. Refusals are answers, not errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from contracts.money import MAX_QUANTITY
from services.lead_svc.domain.decisions.outcomes import (
    Refusal,
    account_id_for_company,
    account_id_for_person,
    contact_id_for,
    opportunity_id_for,
)
from services.lead_svc.domain.model import (
    DecidedBy,
    DisqualifyReason,
    Lead,
    LeadState,
    Lineage,
    Profile,
    ProfileChanges,
    QualificationPolicy,
)
from services.lead_svc.domain.parties import (
    NAME_LIMIT,
    Account,
    AccountData,
    Authority,
    Contact,
    Directory,
)

CAPTURED = "lead.captured"
QUALIFY = "lead.qualify"
DISQUALIFY = "lead.disqualify"
REACTIVATE = "lead.reactivate"
UPDATE = "lead.update"


@dataclass(frozen=True, slots=True)
class Qualified:
    lead: Lead
    lineage: Lineage
    decided_by: DecidedBy
    rule: str
    account: Account
    """The account linked or created; its master data travels on `lead.qualified`."""
    new_contact: Contact | None = None
    """The contact qualification created (None: an existing one was linked)."""


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
class Opened:
    """A captured lead the policy left open for a person to decide, and what it lacks."""

    lead: Lead
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Updated:
    """An open lead changed; the policy then decided again (`then`), or left it open."""

    lead: Lead
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    then: Qualified | Disqualified | None = None


LeadDecision = Qualified | Disqualified | Reactivated | Opened | Updated | Refusal


def capture(
    lead_id: str,
    profile: Profile,
    *,
    deal_id: str,
    existing: Lead | None,
    candidates: Iterable[Lead],
    directory: Directory,
    policy: QualificationPolicy,
    event_id: UUID,
    now: datetime,
) -> LeadDecision:
    """A new lead: refuse one captured under another deal, a reused id or a quantity no later
    stage can price, else apply the policy (disqualify, qualify or keep open)."""
    if deal_id != lead_id:
        return Refusal(
            CAPTURED,
            "deal_id_mismatch",
            "a lead starts its own deal: deal_id must equal lead_id",
            lead_id,
        )
    if existing is not None:
        return Refusal(CAPTURED, "lead_exists", f"lead {lead_id} was captured before", lead_id)
    too_many = _quantity_out_of_range(CAPTURED, profile, lead_id)
    if too_many is not None:
        return too_many
    lead = Lead(
        lead_id=lead_id,
        profile=profile,
        state=LeadState.OPEN,
        status_reason="new",
        captured_at=now,
        updated_at=now,
    )
    decided = _apply_policy(lead, candidates, directory, policy, event_id, now)
    return decided if decided is not None else Opened(lead, policy.gaps(profile))


def update(
    lead: Lead | None,
    changes: ProfileChanges,
    *,
    lead_id: str,
    deal_id: str,
    candidates: Iterable[Lead],
    directory: Directory,
    policy: QualificationPolicy,
    event_id: UUID,
    now: datetime,
) -> LeadDecision:
    """Correct or complete an open lead, then let the policy decide again as on capture."""
    current = _guard(UPDATE, lead, lead_id, deal_id)
    if isinstance(current, Refusal):
        return current
    if current.state is not LeadState.OPEN:
        return Refusal(UPDATE, "not_open", f"the lead is {current.state}", lead_id)
    profile, changed = amend(current.profile, changes)
    if not changed:
        return Refusal(UPDATE, "no_change", "the update repeats what the lead says", lead_id)
    too_many = _quantity_out_of_range(UPDATE, profile, lead_id)
    if too_many is not None:
        return too_many
    updated = replace(current, profile=profile, status_reason="updated", updated_at=now)
    then = _apply_policy(updated, candidates, directory, policy, event_id, now)
    return Updated(updated, changed, () if then else policy.gaps(profile), then)


def amend(profile: Profile, changes: ProfileChanges) -> tuple[Profile, tuple[str, ...]]:
    """The profile with `changes` applied, and the names of the fields that really changed.
    (Also what the store uses to find the duplicates an update may create.)"""
    sent: dict[str, object] = {
        "company_name": changes.company_name,
        "topic": changes.topic,
        "budget_amount": changes.budget_amount,
        "purchase_timeframe": changes.purchase_timeframe,
        "interests": changes.interests,
        "notes": changes.notes,
    }
    proposed = {name: value for name, value in sent.items() if value is not None}
    if changes.person is not None:
        # The person is replaced whole, as a form sends it: a phone left out is removed.
        person = changes.person
        proposed |= {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "job_title": person.job_title,
        }
    updates = {name: value for name, value in proposed.items() if getattr(profile, name) != value}
    if not updates:
        return profile, ()
    changed = {"contact" if name in _PERSON_FIELDS else name for name in updates}
    return replace(profile, **updates), tuple(sorted(changed))  # type: ignore[arg-type]


_PERSON_FIELDS = frozenset({"first_name", "last_name", "email", "phone", "job_title"})


def qualify(
    lead: Lead | None,
    *,
    lead_id: str,
    deal_id: str,
    candidates: Iterable[Lead],
    directory: Directory,
    event_id: UUID,
    now: datetime,
) -> LeadDecision:
    command = QUALIFY
    current = _guard(command, lead, lead_id, deal_id)
    if isinstance(current, Refusal):
        return current
    if current.state is LeadState.QUALIFIED:
        return Refusal(command, "already_qualified", "the lead is qualified already", lead_id)
    if current.state is LeadState.DISQUALIFIED:
        return Refusal(command, "lead_disqualified", "reactivate the lead first", lead_id)
    # Only a QUALIFIED twin blocks a person's decision: blocking on open twins as well would let
    # two open duplicates block each other forever.
    twin = find_duplicate(current, (c for c in candidates if c.state is LeadState.QUALIFIED))
    if twin is not None:
        return Refusal(
            command,
            "duplicate",
            f"lead {twin.lead_id} with the same contact is qualified",
            lead_id,
        )
    return _qualify(current, directory, event_id, DecidedBy.COMMAND, "command", now)


def disqualify(
    lead: Lead | None,
    *,
    lead_id: str,
    deal_id: str,
    reason: DisqualifyReason,
    detail: str,
    now: datetime,
) -> LeadDecision:
    command = DISQUALIFY
    current = _guard(command, lead, lead_id, deal_id)
    if isinstance(current, Refusal):
        return current
    if current.state is LeadState.QUALIFIED:
        return Refusal(
            command, "opportunity_exists", "a qualified lead has an opportunity", lead_id
        )
    if current.state is LeadState.DISQUALIFIED:
        return Refusal(command, "already_disqualified", "the lead is disqualified", lead_id)
    return _disqualify(current, reason, DecidedBy.COMMAND, detail, now)


def reactivate(lead: Lead | None, *, lead_id: str, deal_id: str, now: datetime) -> LeadDecision:
    command = REACTIVATE
    current = _guard(command, lead, lead_id, deal_id)
    if isinstance(current, Refusal):
        return current
    if current.state is not LeadState.DISQUALIFIED:
        return Refusal(command, "not_disqualified", f"the lead is {current.state}", lead_id)
    return Reactivated(
        replace(
            current,
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


def _guard(command: str, lead: Lead | None, lead_id: str, deal_id: str) -> Lead | Refusal:
    """The refusals every lead command shares (an unknown lead, one of another deal); else
    the lead."""
    if lead is None:
        return Refusal(command, "unknown_lead", f"no lead {lead_id}", lead_id)
    if deal_id != lead_id:
        # Commands travel keyed by the deal: one for another lead would race that lead's events.
        return Refusal(
            command, "deal_mismatch", f"lead {lead_id} is not the deal {deal_id}", lead_id
        )
    return lead


def _quantity_out_of_range(command: str, profile: Profile, lead_id: str) -> Refusal | None:
    for interest in profile.interests:
        if interest.quantity > MAX_QUANTITY:
            return Refusal(
                command,
                "quantity_out_of_range",
                f"{interest.sku}: quantity {interest.quantity} is above {MAX_QUANTITY}",
                lead_id,
            )
    return None


def _apply_policy(
    lead: Lead,
    candidates: Iterable[Lead],
    directory: Directory,
    policy: QualificationPolicy,
    event_id: UUID,
    now: datetime,
) -> Qualified | Disqualified | None:
    """What the policy decides about an open lead: disqualify, qualify, or None (a person
    decides)."""
    profile = lead.profile
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
    return None


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
    known = directory.accounts.get(company_key) if company_key else None
    if known is None and company_key:
        # The account first created for this name may carry another name since (renamed):
        # it is still the one its id was minted for; minting it again would announce a blank
        # version 1 of it.
        known = directory.accounts_by_id.get(account_id_for_company(company_key))
    if known is not None:
        account, is_new = known, False
    elif company_key:
        name = (profile.company_name or "").strip()
        minted = Account(account_id_for_company(company_key), AccountData(name=name))
        account, is_new = replace(minted, set_by={"name": Authority.CRM}), True
    else:
        # A person buying for themselves: the account is the person, minted per lead.
        account_id = account_id_for_person(lead.lead_id)
        data = AccountData(name=profile.person.full_name[:NAME_LIMIT])
        personal = Account(account_id, data, personal=True, set_by={"name": Authority.CRM})
        account, is_new = personal, True
    email = profile.email_key
    contact_id = contact_id_for(email, event_id)
    known_contact = directory.contacts.get(email) if email else None
    if known_contact is None:
        # Minted for this email before, the contact may have another address since.
        known_contact = directory.contacts_by_id.get(contact_id)
    new_contact = None
    if known_contact is not None:
        contact_id = known_contact.contact_id
    else:
        new_contact = Contact(contact_id, account.account_id, profile.person)
    lineage = Lineage(
        account_id=account.account_id,
        account_name=account.display_name,
        account_is_new=is_new,
        contact_id=contact_id,
        opportunity_id=opportunity_id_for(lead.lead_id),
    )
    qualified = replace(
        lead, state=LeadState.QUALIFIED, status_reason="qualified", lineage=lineage, updated_at=now
    )
    return Qualified(qualified, lineage, decided_by, rule, account, new_contact)


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
