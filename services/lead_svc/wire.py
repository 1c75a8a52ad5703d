"""Translation between the published language (contracts) and lead_svc's domain values."""

from __future__ import annotations

from contracts.accounts import AccountUpdated, ContactUpdated
from contracts.documents import PaymentTerms
from contracts.leads import (
    ContactInfo,
    DecidedBy,
    DisqualificationReason,
    DisqualifyLead,
    LeadCaptured,
    LeadDisqualified,
    LeadOpened,
    LeadQualified,
    LeadReactivated,
    LeadSource,
    LeadUpdated,
    ProductInterest,
    UpdateLead,
)
from contracts.parties import AccountDetails, Address
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
        interests=_interests_of(captured.product_interests),
        estimated_amount=captured.estimated_amount,
        estimated_close_date=captured.estimated_close_date,
        notes=captured.notes,
        campaign_id=captured.campaign_id,
    )


def changes_of(command: UpdateLead) -> domain.ProfileChanges:
    return domain.ProfileChanges(
        company_name=command.company_name,
        person=person_of(command.contact) if command.contact is not None else None,
        topic=command.topic,
        budget_amount=command.budget_amount,
        purchase_timeframe=command.purchase_timeframe.value
        if command.purchase_timeframe is not None
        else None,
        interests=_interests_of(command.product_interests)
        if command.product_interests is not None
        else None,
        notes=command.notes,
    )


def _interests_of(interests: tuple[ProductInterest, ...]) -> tuple[domain.Interest, ...]:
    return tuple(domain.Interest(i.sku, i.quantity, i.description) for i in interests)


def person_of(contact: ContactInfo) -> domain.Person:
    return domain.Person(
        contact.first_name, contact.last_name, contact.email, contact.phone, contact.job_title
    )


def contact_info(person: domain.Person) -> ContactInfo:
    return ContactInfo(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        phone=person.phone,
        job_title=person.job_title,
    )


def account_data_of(details: AccountDetails) -> domain.AccountData:
    return domain.AccountData(
        name=details.name,
        legal_name=details.legal_name,
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
        bill_to=_address_of(details.bill_to),
        ship_to=_address_of(details.ship_to),
        default_currency=details.default_currency,
        payment_terms=details.payment_terms.value if details.payment_terms else None,
    )


def account_details(account: domain.Account) -> AccountDetails:
    d = account.data
    return AccountDetails(
        name=d.name,
        legal_name=d.legal_name,
        tax_id=d.tax_id,
        erp_customer_number=d.erp_customer_number,
        bill_to=_address(d.bill_to),
        ship_to=_address(d.ship_to),
        default_currency=d.default_currency,
        payment_terms=PaymentTerms(d.payment_terms) if d.payment_terms else None,
    )


def _address_of(address: Address | None) -> domain.Address | None:
    if address is None:
        return None
    return domain.Address(
        lines=address.lines,
        city=address.city,
        country=address.country,
        postal_code=address.postal_code,
        region=address.region,
    )


def _address(address: domain.Address | None) -> Address | None:
    if address is None:
        return None
    return Address(
        lines=address.lines,
        city=address.city,
        postal_code=address.postal_code,
        region=address.region,
        country=address.country,
    )


def reason_of(command: DisqualifyLead) -> domain.DisqualifyReason:
    return domain.DisqualifyReason(command.reason.value)


def detail_of(command: DisqualifyLead) -> str:
    """The person's note, or who disqualified the lead when they left none."""
    return command.note or f"disqualified by {command.requested_by}"


def qualified(q: domain.Qualified) -> LeadQualified:
    lead, lineage, p = q.lead, q.lineage, q.lead.profile
    return LeadQualified(
        lead_id=lead.lead_id,
        account_id=lineage.account_id,
        account_name=lineage.account_name,
        account_is_new=lineage.account_is_new,
        contact_id=lineage.contact_id,
        contact=contact_info(p.person),
        opportunity_id=lineage.opportunity_id,
        topic=p.topic,
        estimated_revenue=p.estimated_amount,
        currency=p.currency,
        estimated_close_date=p.estimated_close_date,
        product_interests=tuple(
            ProductInterest(sku=i.sku, quantity=i.quantity, description=i.description)
            for i in p.interests
        ),
        qualified_by=DecidedBy(q.decided_by.value),
        rule=q.rule,
        source=LeadSource(p.source),
        campaign_id=p.campaign_id,
        notes=p.notes,
        account=account_details(q.account),
        account_version=q.account.version,
    )


def disqualified(d: domain.Disqualified) -> LeadDisqualified:
    return LeadDisqualified(
        lead_id=d.lead.lead_id,
        reason=DisqualificationReason(d.reason.value),
        duplicate_of=d.duplicate_of,
        disqualified_by=DecidedBy(d.decided_by.value),
        detail=d.detail,
    )


def opened(o: domain.Opened) -> LeadOpened:
    return LeadOpened(lead_id=o.lead.lead_id, missing=o.missing)


def updated(u: domain.Updated, requested_by: str) -> LeadUpdated:
    return LeadUpdated(
        lead_id=u.lead.lead_id, changed=u.changed, requested_by=requested_by, missing=u.missing
    )


def reactivated(lead: domain.Lead, requested_by: str) -> LeadReactivated:
    return LeadReactivated(lead_id=lead.lead_id, requested_by=requested_by)


def account_updated(
    account: domain.Account,
    *,
    changed: tuple[str, ...],
    ignored: tuple[str, ...] = (),
    created: bool,
) -> AccountUpdated:
    return AccountUpdated(
        account_id=account.account_id,
        version=account.version,
        details=account_details(account),
        changed=changed,
        ignored=ignored,
        created=created,
    )


def contact_updated(contact: domain.Contact, *, created: bool) -> ContactUpdated:
    return ContactUpdated(
        contact_id=contact.contact_id,
        account_id=contact.account_id,
        contact=contact_info(contact.person),
        created=created,
    )
