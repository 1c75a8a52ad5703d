"""Postgres adapter of lead_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lead_svc.domain import Profile, account_id_for_company, amend, contact_id_for
from services.lead_svc.store.book import LeadBook, Touches
from services.lead_svc.store.parties import (
    account_from_row,
    contact_from_row,
    row_from_account,
    row_from_contact,
)
from services.lead_svc.store.rows import lead_from_row, row_from_lead
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
                book.keep(lead_from_row(row), replace=True)
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
                    book.keep(lead_from_row(row))
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
            [row_from_account(a) for a in book.new_accounts.values()],
            ignore_conflicts=True,
        )
        await upsert_many(
            conn,
            accounts,
            [row_from_account(a) for a in book.changed_accounts.values()],
            ["account_id"],
        )
        await insert_many(
            conn,
            contacts,
            [row_from_contact(c) for c in book.new_contacts.values()],
            ignore_conflicts=True,
        )
        await upsert_many(
            conn,
            contacts,
            [row_from_contact(c) for c in book.changed_contacts.values()],
            ["contact_id"],
        )
        await upsert_many(
            conn, leads, [row_from_lead(lead) for lead in book.changed.values()], ["lead_id"]
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
