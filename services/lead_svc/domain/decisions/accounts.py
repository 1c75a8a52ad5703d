"""lead_svc's decisions on master data: accounts and contacts created or changed by a CRM or the
ERP, each field changed only by the system that owns it (`model.FIELD_OWNERS`).

Pure: standard library only. Conflicts are answers: a field the other system owns and has set is
left as it is and listed in `ignored`; a command that changes nothing because of that is refused
`owned_by_other_system`; a command that repeats what the account says changes nothing, silently
(connectors resend whole records).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from services.lead_svc.domain.decisions.outcomes import Refusal, contact_id_for
from services.lead_svc.domain.parties import (
    FIELD_OWNERS,
    Account,
    AccountData,
    Authority,
    Contact,
    Person,
    fold_email,
)

UPSERT_ACCOUNT = "account.upsert"
UPSERT_CONTACT = "account.upsert_contact"
LINK_ERP_CUSTOMER = "account.link_erp_customer"


@dataclass(frozen=True, slots=True)
class AccountChanged:
    account: Account
    changed: tuple[str, ...]
    ignored: tuple[str, ...]
    created: bool


@dataclass(frozen=True, slots=True)
class ContactChanged:
    contact: Contact
    created: bool


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The command repeats what the record already says."""


AccountDecision = AccountChanged | ContactChanged | Unchanged | Refusal


def upsert_account(
    existing: Account | None,
    sent: AccountData,
    *,
    account_id: UUID,
    authority: Authority,
    number_held_by: UUID | None,
    deal_id: str,
    key: str,
    command: str = UPSERT_ACCOUNT,
) -> AccountDecision:
    """Create the account, or change the fields `authority` may change.

    `number_held_by` is the account that already has `sent.erp_customer_number`, if any: one
    ERP customer is one account. `key` is what the message must travel keyed by (`deal_id`):
    the account id, or the sender's ref when it creates one by ref.
    """
    subject = str(account_id)
    if deal_id != key:
        return _deal_mismatch(command, deal_id, key, subject)
    if existing is None and not (sent.name or sent.legal_name):
        detail = "a new account needs a name or a legal name"
        return Refusal(command, "name_required", detail, subject)
    if sent.erp_customer_number and number_held_by not in (None, account_id):
        return Refusal(
            command,
            "erp_customer_number_taken",
            f"ERP customer {sent.erp_customer_number} is account {number_held_by}",
            subject,
        )
    current = existing if existing is not None else Account(account_id, AccountData(), version=0)
    updates: dict[str, object] = {}
    ignored: list[str] = []
    for name, value in sent.sent().items():
        if getattr(current.data, name) == value:
            continue
        # Kept only when its owner set it: a value the other system put into a field nobody
        # had set may be corrected by either.
        owner = FIELD_OWNERS[name]
        if owner is not authority and current.set_by.get(name) is owner:
            ignored.append(name)
            continue
        updates[name] = value
    if not updates:
        if ignored:
            owners = ", ".join(f"{name} ({FIELD_OWNERS[name]})" for name in ignored)
            return Refusal(
                command, "owned_by_other_system", f"set by their owner: {owners}", subject
            )
        return Unchanged()
    account = replace(
        current,
        data=replace(current.data, **updates),  # type: ignore[arg-type]
        version=current.version + 1,
        set_by={**current.set_by, **dict.fromkeys(updates, authority)},
    )
    return AccountChanged(account, tuple(updates), tuple(ignored), existing is None)


def link_erp_customer(
    existing: Account | None,
    number: str,
    *,
    account_id: UUID,
    number_held_by: UUID | None,
    deal_id: str,
) -> AccountDecision:
    """The ERP says: this account is our customer `number`."""
    if existing is None:
        subject = str(account_id)
        return Refusal(LINK_ERP_CUSTOMER, "unknown_account", f"no account {account_id}", subject)
    return upsert_account(
        existing,
        AccountData(erp_customer_number=number),
        account_id=account_id,
        authority=Authority.ERP,
        number_held_by=number_held_by,
        deal_id=deal_id,
        key=str(account_id),
        command=LINK_ERP_CUSTOMER,
    )


def upsert_contact(
    account: Account | None,
    person: Person,
    *,
    account_id: UUID,
    contact_id: UUID | None,
    by_id: Contact | None,
    by_email: Contact | None,
    deal_id: str,
    event_id: UUID,
) -> AccountDecision:
    """Create a contact of the account or change one: named by id, else found by its email.

    An email is one person: a contact may not take another contact's address, and a contact
    stays with its account (moving people between customers is not an upsert).
    """
    command = UPSERT_CONTACT
    if account is None:
        return Refusal(command, "unknown_account", f"no account {account_id}", str(account_id))
    if deal_id != str(account_id):
        return _deal_mismatch(command, deal_id, str(account_id), str(account_id))
    if contact_id is None and not person.email:
        # Nothing would find it again: the same command resent would create a second person.
        detail = "a contact without an email is named by its contact_id"
        return Refusal(command, "contact_needs_email_or_id", detail, str(account_id))
    target = by_id if contact_id is not None else by_email
    subject = str(contact_id or (target.contact_id if target else account_id))
    if target is not None and target.account_id != account_id:
        return Refusal(
            command,
            "contact_of_other_account",
            f"contact {target.contact_id} belongs to account {target.account_id}",
            subject,
        )
    if by_email is not None and target is not None and by_email.contact_id != target.contact_id:
        return Refusal(
            command, "email_taken", f"{person.email} is contact {by_email.contact_id}", subject
        )
    if target is None and by_email is not None:  # a new id for an address already known
        return Refusal(
            command, "email_taken", f"{person.email} is contact {by_email.contact_id}", subject
        )
    if target is not None:
        if target.person == person:
            return Unchanged()
        return ContactChanged(replace(target, person=person), created=False)
    new_id = contact_id or contact_id_for(fold_email(person.email), event_id)
    return ContactChanged(Contact(new_id, account_id, person), created=True)


def _deal_mismatch(command: str, deal_id: str, key: str, subject: str) -> Refusal:
    # Account commands travel keyed by the account: one keyed otherwise would race that
    # account's other commands on another partition.
    return Refusal(command, "deal_mismatch", f"keyed {deal_id!r}, expected {key!r}", subject)
