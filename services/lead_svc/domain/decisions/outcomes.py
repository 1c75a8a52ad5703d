"""What every lead_svc decision may answer, and the ids salesflow mints.

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID, uuid5

# Ids salesflow mints are derived from stable inputs, so a replayed decision mints the same ids
# and two workers that meet the same new company at once agree on its account id.
_ID_NAMESPACE = UUID("6b4f3c1e-9a53-4c44-9a0b-2f1a8d5e7c10")
# A batch asks for one company's or one address's id several times (what it touches, then each
# decision), and companies recur across batches: uuid5 (a SHA-1 and a UUID built in Python) was
# the largest single item of lead_svc's profile, so recent ids are kept.
_RECENT_IDS = 8192


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    command_event_id: UUID | None = None  # None: the message being handled


@lru_cache(maxsize=_RECENT_IDS)
def account_id_for_company(company_key: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"account:{company_key}")


def account_id_for_person(lead_id: str) -> UUID:
    """A person buying for themselves: their account is minted per lead."""
    return uuid5(_ID_NAMESPACE, f"account:lead:{lead_id}")


@lru_cache(maxsize=_RECENT_IDS)
def account_id_for_ref(authority: str, external_ref: str) -> UUID:
    """An account a CRM or the ERP creates under its own id: the same ref, the same account."""
    return uuid5(_ID_NAMESPACE, f"account:{authority}:{external_ref}")


def contact_id_for(email_key: str | None, event_id: UUID | None) -> UUID:
    """By email when there is one (one contact per address), else by the creating event."""
    if email_key:
        return _contact_id_for_email(email_key)
    return uuid5(_ID_NAMESPACE, f"contact:{event_id}")


@lru_cache(maxsize=_RECENT_IDS)
def _contact_id_for_email(email_key: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"contact:{email_key}")


def opportunity_id_for(lead_id: str) -> UUID:
    return uuid5(_ID_NAMESPACE, f"opportunity:{lead_id}")
