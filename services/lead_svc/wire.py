"""Translation between the published language (contracts) and lead_svc's domain values."""

from __future__ import annotations

from contracts.leads import (
    ContactInfo,
    DecidedBy,
    DisqualificationReason,
    DisqualifyLead,
    LeadCaptured,
    LeadDisqualified,
    LeadQualified,
    ProductInterest,
)
from services.lead_svc import domain


def profile_of(captured: LeadCaptured) -> domain.Profile:
    c = captured.contact
    return domain.Profile(
        source=captured.source.value,
        topic=captured.topic,
        first_name=c.first_name,
        last_name=c.last_name,
        company_name=captured.company_name,
        email=c.email,
        phone=c.phone,
        job_title=c.job_title,
        budget_amount=captured.budget_amount,
        currency=captured.currency,
        purchase_timeframe=captured.purchase_timeframe.value,
        interests=tuple(
            domain.Interest(i.sku, i.quantity, i.description) for i in captured.product_interests
        ),
        estimated_amount=captured.estimated_amount,
        estimated_close_date=captured.estimated_close_date,
        notes=captured.notes,
    )


def reason_of(command: DisqualifyLead) -> domain.DisqualifyReason:
    return domain.DisqualifyReason(command.reason.value)


def detail_of(command: DisqualifyLead) -> str:
    """The person's note, or who disqualified the lead when they left none."""
    return command.note or f"disqualified by {command.requested_by}"


def qualified(
    lead: domain.Lead, lineage: domain.Lineage, decided_by: domain.DecidedBy, rule: str
) -> LeadQualified:
    p = lead.profile
    return LeadQualified(
        lead_id=lead.lead_id,
        account_id=lineage.account_id,
        account_name=lineage.account_name,
        account_is_new=lineage.account_is_new,
        contact_id=lineage.contact_id,
        contact=ContactInfo(
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
            phone=p.phone,
            job_title=p.job_title,
        ),
        opportunity_id=lineage.opportunity_id,
        topic=p.topic,
        estimated_revenue=p.estimated_amount,
        currency=p.currency,
        estimated_close_date=p.estimated_close_date,
        product_interests=tuple(
            ProductInterest(sku=i.sku, quantity=i.quantity, description=i.description)
            for i in p.interests
        ),
        qualified_by=DecidedBy(decided_by.value),
        rule=rule,
    )


def disqualified(
    lead: domain.Lead,
    reason: domain.DisqualifyReason,
    decided_by: domain.DecidedBy,
    detail: str,
    duplicate_of: str | None,
) -> LeadDisqualified:
    return LeadDisqualified(
        lead_id=lead.lead_id,
        reason=DisqualificationReason(reason.value),
        duplicate_of=duplicate_of,
        disqualified_by=DecidedBy(decided_by.value),
        detail=detail,
    )
