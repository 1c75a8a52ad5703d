"""How lead_svc's parties are written to and read from their rows: accounts (master data, with
their addresses as JSONB and which system set each field) and contacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.lead_svc.domain import Account, AccountData, Address, Authority, Contact, Person
from shared import party_json


def row_from_account(account: Account) -> dict[str, Any]:
    d = account.data
    return {
        "account_id": account.account_id,
        "name": account.display_name,
        "name_key": account.company_key,
        "trading_name": d.name,
        "legal_name": d.legal_name,
        "tax_id": d.tax_id,
        "erp_customer_number": d.erp_customer_number,
        "bill_to": party_json.address_to_json(d.bill_to),
        "ship_to": party_json.address_to_json(d.ship_to),
        "default_currency": d.default_currency,
        "payment_terms": d.payment_terms,
        "version": account.version,
        "set_by": {name: authority.value for name, authority in account.set_by.items()},
    }


def account_from_row(row: Mapping[str, Any]) -> Account:
    """An account from its row, or from the row as JSON (the directory load)."""
    name_key = row["name_key"]
    # Before master data, a person's own account had "lead:<id>" as its key; now it has none.
    personal = name_key is None or name_key.startswith("lead:")
    account_id = row["account_id"]
    return Account(
        account_id=account_id if isinstance(account_id, UUID) else UUID(account_id),
        data=AccountData(
            # Rows from before master data have only the display name.
            name=row["trading_name"] or (None if row["legal_name"] else row["name"]),
            legal_name=row["legal_name"],
            tax_id=row["tax_id"],
            erp_customer_number=row["erp_customer_number"],
            bill_to=party_json.address_from_json(row["bill_to"], Address),
            ship_to=party_json.address_from_json(row["ship_to"], Address),
            default_currency=row["default_currency"],
            payment_terms=row["payment_terms"],
        ),
        version=row["version"],
        personal=personal,
        set_by={name: Authority(value) for name, value in (row["set_by"] or {}).items()},
    )


def row_from_contact(contact: Contact) -> dict[str, Any]:
    p = contact.person
    return {
        "contact_id": contact.contact_id,
        "account_id": contact.account_id,
        "email_key": contact.email_key,
        "full_name": p.full_name,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "email": p.email,
        "phone": p.phone,
        "job_title": p.job_title,
    }


def contact_from_row(row: Mapping[str, Any]) -> Contact:
    """A contact from its row as JSON (the directory load)."""
    first, last = row["first_name"], row["last_name"]
    if first is None:  # a row from before master data kept the full name only
        first, _, last = row["full_name"].partition(" ")
    return Contact(
        contact_id=UUID(str(row["contact_id"])),
        account_id=UUID(str(row["account_id"])),
        person=Person(first, last or "", row["email"], row["phone"], row["job_title"]),
    )
