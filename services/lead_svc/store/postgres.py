"""Postgres adapter of lead_svc: load a batch's book in a few queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, cast, literal, null, or_, select, union_all
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lead_svc.domain import Interest, Lead, LeadState, Lineage, Profile
from services.lead_svc.store.book import LeadBook, Touches
from services.lead_svc.store.tables import accounts, contacts, leads
from shared.db import any_param, insert_many, upsert_many

# Built once (see shared.db.any_param): the loads of every batch.
_LEADS_BY_ID = select(leads).where(any_param(leads.c.lead_id, "ids")).with_for_update()
_CANDIDATES = select(leads).where(
    or_(any_param(leads.c.email_key, "emails"), any_param(leads.c.name_key, "names"))
)
# Accounts and contacts in one round trip.
_DIRECTORY = union_all(
    select(literal("account"), accounts.c.name_key, accounts.c.account_id, accounts.c.name).where(
        any_param(accounts.c.name_key, "companies")
    ),
    select(
        literal("contact"), contacts.c.email_key, contacts.c.contact_id, cast(null(), Text)
    ).where(any_param(contacts.c.email_key, "emails")),
)


class LeadStore:
    """Postgres adapter of lead_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> LeadBook:
        book = LeadBook(captured_profiles=dict(touches.captured_profiles))
        ids = sorted(touches.lead_ids)
        if ids:
            # Locked: two members briefly owning one partition during a rebalance serialise here.
            for row in await conn.execute(_LEADS_BY_ID, {"ids": ids}):
                book.keep(_lead_from_row(row), replace=True)
        all_profiles = [
            *touches.captured_profiles.values(),
            *(lead.profile for lead in book.leads.values()),
        ]
        emails = sorted({p.email_key for p in all_profiles if p.email_key})
        names = sorted({p.name_key for p in all_profiles if p.name_key})
        companies = sorted({p.company_key for p in all_profiles if p.company_key})
        if emails or names:
            for row in await conn.execute(_CANDIDATES, {"emails": emails, "names": names}):
                if row.lead_id not in book.leads:
                    book.keep(_lead_from_row(row))
        if companies or emails:
            rows = await conn.execute(_DIRECTORY, {"companies": companies, "emails": emails})
            for kind, key, entity_id, name in rows:
                if kind == "account":
                    book.directory.accounts[key] = (entity_id, name)
                else:
                    book.directory.contacts[key] = entity_id
        return book

    async def save(self, conn: AsyncConnection, book: LeadBook) -> None:
        await insert_many(
            conn,
            accounts,
            [
                {"account_id": account_id, "name": name, "name_key": key}
                for key, (account_id, name) in book.new_accounts.items()
            ],
            ignore_conflicts=True,
        )
        await insert_many(
            conn,
            contacts,
            [
                {"contact_id": cid, "account_id": aid, "email_key": email, "full_name": name}
                for cid, (aid, email, name) in book.new_contacts.items()
            ],
            ignore_conflicts=True,
        )
        await upsert_many(
            conn, leads, [_row_from_lead(lead) for lead in book.changed.values()], ["lead_id"]
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
    )


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
