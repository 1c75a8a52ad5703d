"""The in-memory book one batch works on: what it loaded and what it changed.

Handlers decide against it; unit tests use it as the fake store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from services.lead_svc.domain import (
    Account,
    Contact,
    Directory,
    Lead,
    Profile,
    ProfileChanges,
)


@dataclass(frozen=True, slots=True)
class Touches:
    """What one batch's messages touch, so `load` can fetch it in a few queries: the leads by
    id, the profile of each captured lead by event id and the changes of each updated lead
    (their duplicate candidates, accounts and contacts are found by the profiles' keys), and the
    accounts, ERP customer numbers, contacts and contact emails master-data commands name."""

    lead_ids: frozenset[str] = frozenset()
    captured_profiles: Mapping[UUID, Profile] = field(default_factory=dict)
    lead_changes: Mapping[str, tuple[ProfileChanges, ...]] = field(default_factory=dict)
    captured_leads: Mapping[str, Profile] = field(default_factory=dict)
    account_ids: frozenset[UUID] = frozenset()
    erp_numbers: frozenset[str] = frozenset()
    contact_ids: frozenset[UUID] = frozenset()
    contact_emails: frozenset[str] = frozenset()


@dataclass
class LeadBook:
    """The leads, accounts and contacts one batch works on, and what it changed."""

    leads: dict[str, Lead] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)
    changed: dict[str, Lead] = field(default_factory=dict)
    # The profile of each captured lead of the batch, by event id: built once by `touches_of`
    # for the load, reused by the handler (folding a profile's keys is not free).
    captured_profiles: dict[UUID, Profile] = field(default_factory=dict)

    # Created by qualification: inserted unless a worker that met the same company first did
    # (deterministic ids). Changed by a command (the row is locked): written as they are.
    new_accounts: dict[UUID, Account] = field(default_factory=dict)
    new_contacts: dict[UUID, Contact] = field(default_factory=dict)
    changed_accounts: dict[UUID, Account] = field(default_factory=dict)
    changed_contacts: dict[UUID, Contact] = field(default_factory=dict)
    _by_number: dict[str, UUID] = field(default_factory=dict, repr=False)

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
        for account in list(self.directory.accounts.values()):
            self.keep_account(account)
        for contact in list(self.directory.contacts.values()):
            self.keep_contact(contact)

    # --- leads ------------------------------------------------------------------------------

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

    # --- accounts and contacts --------------------------------------------------------------

    @property
    def accounts(self) -> dict[UUID, Account]:
        """Every account the batch knows, by id (the directory's own index)."""
        return self.directory.accounts_by_id

    @property
    def contacts(self) -> dict[UUID, Contact]:
        return self.directory.contacts_by_id

    def account(self, account_id: UUID) -> Account | None:
        return self.accounts.get(account_id)

    def holder_of(self, erp_customer_number: str | None) -> UUID | None:
        """The account that has this ERP customer number, if any."""
        return self._by_number.get(erp_customer_number) if erp_customer_number else None

    def contact(self, contact_id: UUID | None) -> Contact | None:
        return self.contacts.get(contact_id) if contact_id is not None else None

    def contact_by_email(self, email_key: str | None) -> Contact | None:
        return self.directory.contacts.get(email_key) if email_key else None

    def keep_account(self, account: Account) -> None:
        """An account read from the database (the first read of a name wins the name: the
        loads return the older of two accounts of one name first)."""
        self.accounts[account.account_id] = account
        if account.company_key:
            self.directory.accounts.setdefault(account.company_key, account)
        if account.data.erp_customer_number:
            self._by_number[account.data.erp_customer_number] = account.account_id

    def keep_contact(self, contact: Contact) -> None:
        self.contacts[contact.contact_id] = contact
        if contact.email_key:
            self.directory.contacts.setdefault(contact.email_key, contact)

    def put_account(self, account: Account, *, created_by_qualification: bool = False) -> None:
        previous = self.accounts.get(account.account_id)
        if previous is not None:  # a renamed account no longer answers to its old name
            if (
                previous.company_key
                and self.directory.accounts.get(previous.company_key) is previous
            ):
                del self.directory.accounts[previous.company_key]
            if previous.data.erp_customer_number:
                self._by_number.pop(previous.data.erp_customer_number, None)
        self.accounts[account.account_id] = account
        if account.company_key:
            self.directory.accounts[account.company_key] = account
        if account.data.erp_customer_number:
            self._by_number[account.data.erp_customer_number] = account.account_id
        if created_by_qualification or account.account_id in self.new_accounts:
            self.new_accounts[account.account_id] = account
        else:
            self.changed_accounts[account.account_id] = account

    def put_contact(self, contact: Contact, *, created_by_qualification: bool = False) -> None:
        previous = self.contacts.get(contact.contact_id)
        if (
            previous is not None
            and previous.email_key
            and self.directory.contacts.get(previous.email_key) is previous
        ):
            del self.directory.contacts[previous.email_key]
        self.contacts[contact.contact_id] = contact
        if contact.email_key:
            self.directory.contacts[contact.email_key] = contact
        if created_by_qualification or contact.contact_id in self.new_contacts:
            self.new_contacts[contact.contact_id] = contact
        else:
            self.changed_contacts[contact.contact_id] = contact


def _unlist(index: dict[str, list[str]], key: str | None, lead_id: str) -> None:
    if key and lead_id in index.get(key, ()):
        index[key].remove(lead_id)
