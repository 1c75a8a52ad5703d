"""Postgres adapter of lead_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lead_svc.domain import (
    Account,
    AccountData,
    Address,
    Authority,
    Contact,
    Interest,
    Lead,
    LeadState,
    Lineage,
    Person,
    Profile,
    account_id_for_company,
    amend,
    contact_id_for,
)
from services.lead_svc.store.book import LeadBook, Touches
from services.lead_svc.store.tables import accounts, contacts, leads
from shared.db import any_param, insert_many, upsert_many

# Built once (see shared.db.any_param): the loads of every batch.
_LEADS_BY_ID = select(leads).where(any_param(leads.c.lead_id, "ids")).with_for_update()
_CANDIDATES = select(leads).where(
    or_(any_param(leads.c.email_key, "emails"), any_param(leads.c.name_key, "names"))
)
# Accounts a command changes are locked: two members briefly owning one partition during a
# rebalance serialise here, and a version is never issued twice.
_ACCOUNTS_BY_ID = select(accounts).where(any_param(accounts.c.account_id, "ids")).with_for_update()
# Accounts and contacts to link or check, in one round trip, each as one JSON row; the older
# account of a name first (qualification links it).
_DIRECTORY = union_all(
    select(literal("account"), accounts.c.created_at, func.to_jsonb(accounts.table_valued())).where(
        or_(
            any_param(accounts.c.name_key, "companies"),
            any_param(accounts.c.erp_customer_number, "numbers"),
            any_param(accounts.c.account_id, "minted"),
        )
    ),
    select(literal("contact"), contacts.c.created_at, func.to_jsonb(contacts.table_valued())).where(
        or_(
            any_param(contacts.c.email_key, "emails"),
            any_param(contacts.c.contact_id, "contact_ids"),
        )
    ),
).order_by("created_at")


class LeadStore:
    """Postgres adapter of lead_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> LeadBook:
        book = LeadBook(captured_profiles=dict(touches.captured_profiles))
        ids = sorted(touches.lead_ids)
        if ids:
            # Locked: two members briefly owning one partition during a rebalance serialise here.
            for row in await conn.execute(_LEADS_BY_ID, {"ids": ids}):
                book.keep(_lead_from_row(row), replace=True)
        updated = _updated_profiles(book, touches)
        all_profiles = [
            *touches.captured_profiles.values(),
            *(lead.profile for lead in book.leads.values()),
            *updated,
        ]
        emails = sorted({p.email_key for p in all_profiles if p.email_key} | touches.contact_emails)
        names = sorted({p.name_key for p in all_profiles if p.name_key})
        companies = sorted({p.company_key for p in all_profiles if p.company_key})
        if emails or names:
            for row in await conn.execute(_CANDIDATES, {"emails": emails, "names": names}):
                if row.lead_id not in book.leads:
                    book.keep(_lead_from_row(row))
        if touches.account_ids:
            for row in await conn.execute(_ACCOUNTS_BY_ID, {"ids": sorted(touches.account_ids)}):
                book.keep_account(account_from_row(dict(row._mapping)))
        numbers = sorted(touches.erp_numbers)
        if companies or emails or numbers or touches.contact_ids:
            # Also the ids qualification would mint for these names and emails: the record
            # minted for a name earlier may carry another name (or address) since.
            minted_contacts = {contact_id_for(email, None) for email in emails}
            params = {
                "companies": companies,
                "numbers": numbers,
                "minted": sorted(account_id_for_company(key) for key in companies),
                "emails": emails,
                "contact_ids": sorted(set(touches.contact_ids) | minted_contacts),
            }
            for kind, _, record in await conn.execute(_DIRECTORY, params):
                if kind == "account":
                    if UUID(record["account_id"]) not in book.accounts:
                        book.keep_account(account_from_row(record))
                else:
                    book.keep_contact(contact_from_row(record))
        return book

    async def save(self, conn: AsyncConnection, book: LeadBook) -> None:
        await insert_many(
            conn,
            accounts,
            [_row_from_account(a) for a in book.new_accounts.values()],
            ignore_conflicts=True,
        )
        await upsert_many(
            conn,
            accounts,
            [_row_from_account(a) for a in book.changed_accounts.values()],
            ["account_id"],
        )
        await insert_many(
            conn,
            contacts,
            [_row_from_contact(c) for c in book.new_contacts.values()],
            ignore_conflicts=True,
        )
        await upsert_many(
            conn,
            contacts,
            [_row_from_contact(c) for c in book.changed_contacts.values()],
            ["contact_id"],
        )
        await upsert_many(
            conn, leads, [_row_from_lead(lead) for lead in book.changed.values()], ["lead_id"]
        )


def _updated_profiles(book: LeadBook, touches: Touches) -> list[Profile]:
    """Each update of the batch applied in turn to the stored (or just captured) profile: the
    duplicates and contacts every intermediate profile may meet are loaded too."""
    updated = []
    for lead_id, changes in touches.lead_changes.items():
        known = book.leads.get(lead_id)
        profile = known.profile if known else touches.captured_leads.get(lead_id)
        if profile is None:
            continue
        for change in changes:
            profile = amend(profile, change)[0]
            updated.append(profile)
    return updated


def _row_from_account(account: Account) -> dict[str, Any]:
    d = account.data
    return {
        "account_id": account.account_id,
        "name": account.display_name,
        "name_key": account.company_key,
        "trading_name": d.name,
        "legal_name": d.legal_name,
        "tax_id": d.tax_id,
        "erp_customer_number": d.erp_customer_number,
        "bill_to": _address_to_json(d.bill_to),
        "ship_to": _address_to_json(d.ship_to),
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
            bill_to=_address_from_json(row["bill_to"]),
            ship_to=_address_from_json(row["ship_to"]),
            default_currency=row["default_currency"],
            payment_terms=row["payment_terms"],
        ),
        version=row["version"],
        personal=personal,
        set_by={name: Authority(value) for name, value in (row["set_by"] or {}).items()},
    )


def _row_from_contact(contact: Contact) -> dict[str, Any]:
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


def _address_to_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "lines": list(address.lines),
        "city": address.city,
        "postal_code": address.postal_code,
        "region": address.region,
        "country": address.country,
    }


def _address_from_json(d: Mapping[str, Any] | None) -> Address | None:
    if d is None:
        return None
    return Address(
        lines=tuple(d["lines"]),
        city=d["city"],
        country=d["country"],
        postal_code=d.get("postal_code"),
        region=d.get("region"),
    )


def _row_from_lead(lead: Lead) -> dict[str, Any]:
    lineage = lead.lineage
    profile = lead.profile
    return {
        "lead_id": lead.lead_id,
        "state": lead.state.value,
        "status_reason": lead.status_reason,
        "email_key": profile.email_key,
        "name_key": profile.name_key,
        "company_key": profile.company_key,
        "profile": profile_to_json(profile),
        "account_id": lineage.account_id if lineage else None,
        "account_name": lineage.account_name if lineage else None,
        "account_is_new": lineage.account_is_new if lineage else None,
        "contact_id": lineage.contact_id if lineage else None,
        "opportunity_id": lineage.opportunity_id if lineage else None,
        "duplicate_of": lead.duplicate_of,
        "captured_at": lead.captured_at,
        "updated_at": lead.updated_at,
    }


def _lead_from_row(row: Row[Any]) -> Lead:
    lineage = (
        Lineage(
            account_id=row.account_id,
            account_name=row.account_name or "",
            account_is_new=bool(row.account_is_new),
            contact_id=row.contact_id,
            opportunity_id=row.opportunity_id,
        )
        if row.opportunity_id is not None
        else None
    )
    return Lead(
        lead_id=row.lead_id,
        profile=profile_from_json(row.profile),
        state=LeadState(row.state),
        status_reason=row.status_reason,
        captured_at=row.captured_at,
        updated_at=row.updated_at,
        lineage=lineage,
        duplicate_of=row.duplicate_of,
    )


def profile_to_json(p: Profile) -> dict[str, Any]:
    return {
        "source": p.source,
        "topic": p.topic,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "company_name": p.company_name,
        "email": p.email,
        "phone": p.phone,
        "job_title": p.job_title,
        "budget_amount": _dec(p.budget_amount),
        "currency": p.currency,
        "purchase_timeframe": p.purchase_timeframe,
        "interests": [
            {"sku": i.sku, "quantity": str(i.quantity), "description": i.description}
            for i in p.interests
        ],
        "estimated_amount": _dec(p.estimated_amount),
        "estimated_close_date": p.estimated_close_date.isoformat()
        if p.estimated_close_date
        else None,
        "notes": p.notes,
        "campaign_id": p.campaign_id,
    }


def profile_from_json(d: dict[str, Any]) -> Profile:
    return Profile(
        source=d["source"],
        topic=d["topic"],
        first_name=d["first_name"],
        last_name=d["last_name"],
        company_name=d.get("company_name"),
        email=d.get("email"),
        phone=d.get("phone"),
        job_title=d.get("job_title"),
        budget_amount=_undec(d.get("budget_amount")),
        currency=d["currency"],
        purchase_timeframe=d["purchase_timeframe"],
        interests=tuple(
            Interest(i["sku"], Decimal(i["quantity"]), i.get("description"))
            for i in d.get("interests", ())
        ),
        estimated_amount=_undec(d.get("estimated_amount")),
        estimated_close_date=date.fromisoformat(d["estimated_close_date"])
        if d.get("estimated_close_date")
        else None,
        notes=d.get("notes"),
        campaign_id=d.get("campaign_id"),
    )


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
