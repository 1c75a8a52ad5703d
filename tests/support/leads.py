"""Builders of lead envelopes for tests (upstream systems' messages)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.envelope import Envelope, make_envelope
from contracts.leads import (
    ContactInfo,
    DisqualifyLead,
    DisqualifyReason,
    LeadCaptured,
    LeadSource,
    ProductInterest,
    PurchaseTimeframe,
    QualifyLead,
    ReactivateLead,
    UpdateLead,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UPSTREAM = "test-upstream"


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]


def captured(
    lead_id: str,
    *,
    company: str | None = "Acme Corp",
    first_name: str = "Ada",
    last_name: str | None = None,
    email: str | None = "",
    phone: str | None = None,
    interests: tuple[tuple[str, str], ...] = (("SKU-1", "2"),),
    timeframe: PurchaseTimeframe = PurchaseTimeframe.THIS_QUARTER,
    budget: str | None = "5000",
    at: datetime = NOW,
) -> Envelope[LeadCaptured]:
    """A lead that fits the default policy unless told otherwise; names are unique per lead."""
    payload = LeadCaptured(
        lead_id=lead_id,
        source=LeadSource.WEB_FORM,
        company_name=company,
        contact=ContactInfo(
            first_name=first_name,
            last_name=last_name or f"Lovelace-{lead_id}",
            email=f"{lead_id}@example.com" if email == "" else email,
            phone=phone,
        ),
        topic="widgets",
        budget_amount=Decimal(budget) if budget is not None else None,
        currency="EUR",
        purchase_timeframe=timeframe,
        product_interests=tuple(
            ProductInterest(sku=sku, quantity=Decimal(qty)) for sku, qty in interests
        ),
        estimated_amount=None,
        estimated_close_date=None,
        notes=None,
    )
    return make_envelope(
        payload, event_type="lead.captured", deal_id=lead_id, producer=UPSTREAM, occurred_at=at
    )


def command(kind: str, lead_id: str, *, deal_id: str | None = None, **fields: Any) -> Envelope[Any]:
    """A person's command on a lead, keyed by the lead unless `deal_id` says otherwise."""
    payload: Any
    if kind == "lead.qualify":
        payload = QualifyLead(lead_id=lead_id, requested_by="rep", note=None)
    elif kind == "lead.disqualify":
        payload = DisqualifyLead(
            lead_id=lead_id,
            reason=fields.get("reason", DisqualifyReason.LOST),
            requested_by="rep",
            note=None,
        )
    elif kind == "lead.reactivate":
        payload = ReactivateLead(lead_id=lead_id, requested_by="rep", note=None)
    elif kind == "lead.update":
        payload = UpdateLead(lead_id=lead_id, requested_by="rep", **fields)
    else:
        raise ValueError(kind)
    return make_envelope(
        payload,
        event_type=kind,
        deal_id=deal_id or lead_id,
        producer=UPSTREAM,
        occurred_at=NOW,
    )


def master_data(payload: Any, *, key: str) -> Envelope[Any]:
    """An `account.commands` message from a CRM or the ERP, keyed `key` (the account id, or
    the sender's ref when it creates an account by ref)."""
    return make_envelope(
        payload, event_type=payload.EVENT_TYPE, deal_id=key, producer=UPSTREAM, occurred_at=NOW
    )
