"""What every lead_svc decision may answer, and the ids salesflow mints.

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

# Ids salesflow mints are derived from stable inputs, so a replayed decision mints the same ids
# and two workers that meet the same new company at once agree on its account id.
_ID_NAMESPACE = UUID("6b4f3c1e-9a53-4c44-9a0b-2f1a8d5e7c10")


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    command_event_id: UUID | None = None  # None: the message being handled


def account_id_for_company(company_key: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"account:{company_key}")


def account_id_for_person(lead_id: str) -> UUID:
    """A person buying for themselves: their account is minted per lead."""
    return uuid5(_ID_NAMESPACE, f"account:lead:{lead_id}")


def account_id_for_ref(authority: str, external_ref: str) -> UUID:
    """An account a CRM or the ERP creates under its own id: the same ref, the same account."""
    return uuid5(_ID_NAMESPACE, f"account:{authority}:{external_ref}")


def contact_id_for(email_key: str | None, event_id: UUID | None) -> UUID:
    """By email when there is one (one contact per address), else by the creating event."""
    return uuid5(_ID_NAMESPACE, f"contact:{email_key}" if email_key else f"contact:{event_id}")


def opportunity_id_for(lead_id: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"opportunity:{lead_id}")
