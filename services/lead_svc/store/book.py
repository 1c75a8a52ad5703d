"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from services.lead_svc.domain import Directory, Lead, Lineage, Profile


@dataclass(frozen=True, slots=True)
class Touches:
    """What one batch's messages touch, so `load` can fetch it in a few queries: the leads by
    id, and the profile of each captured lead by event id (its duplicate candidates, accounts
    and contacts are found by the profile's keys)."""

    lead_ids: frozenset[str] = frozenset()
    captured_profiles: Mapping[UUID, Profile] = field(default_factory=dict)


@dataclass
class LeadBook:
    """The leads, accounts and contacts one batch works on, and what it changed."""

    leads: dict[str, Lead] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)
    changed: dict[str, Lead] = field(default_factory=dict)
    new_accounts: dict[str, tuple[UUID, str]] = field(default_factory=dict)
    new_contacts: dict[UUID, tuple[UUID, str | None, str]] = field(default_factory=dict)
    # The profile of each captured lead of the batch, by event id: built once by `touches_of`
    # for the load, reused by the handler (folding a profile's keys is not free).
    captured_profiles: dict[UUID, Profile] = field(default_factory=dict)

    # Duplicate-detection index: key -> lead ids, and each indexed lead's profile and keys.
    # Scanning every lead of the book per message was quadratic in the batch size and
    # recomputed the folded keys each time (measured: 60 % of lead_svc's CPU at 500 records).
    _by_email: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _indexed: dict[str, tuple[Profile, str | None, str | None]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        for lead in self.leads.values():
            self._index(lead)

    def get(self, lead_id: str) -> Lead | None:
        return self.leads.get(lead_id)

    def captured_profile(self, event_id: UUID) -> Profile | None:
        """The profile `touches_of` built for the lead.captured with this event id, if any."""
        return self.captured_profiles.get(event_id)

    def keep(self, lead: Lead, *, replace: bool = False) -> None:
        """A lead read from the database (`replace=False`: the first read of it wins)."""
        if replace or lead.lead_id not in self.leads:
            self.leads[lead.lead_id] = lead
            self._index(lead)

    def candidates(self, profile: Profile) -> list[Lead]:
        """Leads that may duplicate `profile` (same email or same company + name), in the
        order the book first saw them."""
        email, name = profile.email_key, profile.name_key
        ids = set(self._by_email.get(email, ())) if email else set()
        if name:
            ids.update(self._by_name.get(name, ()))
        if len(ids) <= 1:
            return [self.leads[lead_id] for lead_id in ids]
        order = {lead_id: n for n, lead_id in enumerate(self.leads) if lead_id in ids}
        return [self.leads[lead_id] for lead_id in sorted(ids, key=order.__getitem__)]

    def put(self, lead: Lead) -> None:
        self.leads[lead.lead_id] = lead
        self.changed[lead.lead_id] = lead
        self._index(lead)

    def _index(self, lead: Lead) -> None:
        known = self._indexed.get(lead.lead_id)
        if known is not None and known[0] is lead.profile:
            return
        if known is not None:
            _unlist(self._by_email, known[1], lead.lead_id)
            _unlist(self._by_name, known[2], lead.lead_id)
        email, name = lead.profile.email_key, lead.profile.name_key
        if email:
            self._by_email.setdefault(email, []).append(lead.lead_id)
        if name:
            self._by_name.setdefault(name, []).append(lead.lead_id)
        self._indexed[lead.lead_id] = (lead.profile, email, name)

    def link(self, lead: Lead, lineage: Lineage) -> None:
        """Remember accounts and contacts qualification created, for later leads of the batch."""
        company_key = lead.profile.company_key
        if lineage.account_is_new:
            key = company_key or f"lead:{lead.lead_id}"
            self.directory.accounts.setdefault(key, (lineage.account_id, lineage.account_name))
            self.new_accounts.setdefault(key, (lineage.account_id, lineage.account_name))
        email = lead.profile.email_key
        if email and email not in self.directory.contacts:
            self.directory.contacts[email] = lineage.contact_id
        name = f"{lead.profile.first_name} {lead.profile.last_name}".strip()
        self.new_contacts.setdefault(lineage.contact_id, (lineage.account_id, email, name))


def _unlist(index: dict[str, list[str]], key: str | None, lead_id: str) -> None:
    if key and lead_id in index.get(key, ()):
        index[key].remove(lead_id)
