"""How lead_svc's leads are written to and read from their rows: the lead with its lineage, its
profile as JSONB (decimals as strings: JSON numbers would pass through floats)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from services.lead_svc.domain import Interest, Lead, LeadState, Lineage, Profile


def row_from_lead(lead: Lead) -> dict[str, Any]:
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


def lead_from_row(row: Row[Any]) -> Lead:
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
