"""lead_svc's decisions: capture under the qualification policy, qualify, disqualify, reactivate.

Pure: standard library only, time and the causing event's id passed in. Decisions take values
and return the new lead plus what happened (`Qualified`, `Disqualified`, ...) or a `Refusal` that
says why a message does not fit the lead's state. Refusals are answers, not errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid5

from services.lead_svc.domain.model import (
    DecidedBy,
    Directory,
    DisqualifyReason,
    Lead,
    LeadState,
    Lineage,
    Profile,
    QualificationPolicy,
)

# Ids salesflow mints are derived from stable inputs, so a replayed decision mints the same ids
# and two workers that meet the same new company at once agree on its account id.
_ID_NAMESPACE = UUID("6b4f3c1e-9a53-4c44-9a0b-2f1a8d5e7c10")

CAPTURED = "lead.captured"
QUALIFY = "lead.qualify"
DISQUALIFY = "lead.disqualify"
REACTIVATE = "lead.reactivate"


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
    command_event_id: UUID | None = None  # None: the message being handled


Decision = Qualified | Disqualified | Reactivated | Captured | Refusal


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
) -> Decision:
    """A new lead: refuse one captured under another deal or a reused id, else apply the policy
    (disqualify, qualify or keep open)."""
    if deal_id != lead_id:
        return Refusal(
            CAPTURED,
            "deal_id_mismatch",
            "a lead starts its own deal: deal_id must equal lead_id",
            lead_id,
        )
    if existing is not None:
        return Refusal(CAPTURED, "lead_exists", f"lead {lead_id} was captured before", lead_id)
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
    command = QUALIFY
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
    command = DISQUALIFY
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
    command = REACTIVATE
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
