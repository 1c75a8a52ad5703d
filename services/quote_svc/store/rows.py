"""Translation between quote_svc's aggregates and their rows (the lines as JSONB, decimals as
strings: JSON numbers would pass through floats)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row

from services.quote_svc.domain import (
    Contact,
    Customer,
    Opportunity,
    OpportunityState,
    PriceItem,
    Quote,
    QuoteLine,
    QuoteState,
    VolumeList,
)
from services.quote_svc.store.parties import details_from_json, details_to_json


def row_from_price(item: PriceItem) -> dict[str, Any]:
    # updated_at is left to the column default, which the upsert's EXCLUDED row carries too.
    return {
        "price_list_id": item.price_list_id,
        "sku": item.sku,
        "description": item.description,
        "unit_price": item.unit_price,
        "currency": item.currency,
        "tax_rate": item.tax_rate,
        "unit": item.unit,
        "active": item.active,
    }


def row_from_volume(listed: VolumeList) -> dict[str, Any]:
    return {
        "price_list_id": listed.price_list_id,
        "sku": listed.sku,
        "tiers": [[str(q), str(r)] for q, r in listed.tiers],
    }


def volume_from_row(row: Row[Any]) -> VolumeList:
    tiers = tuple((Decimal(q), Decimal(r)) for q, r in row.tiers)
    return VolumeList(row.price_list_id, row.sku, tiers)


def price_from_row(row: Row[Any]) -> PriceItem:
    return PriceItem(
        price_list_id=row.price_list_id,
        sku=row.sku,
        description=row.description,
        unit_price=row.unit_price,
        currency=row.currency,
        tax_rate=row.tax_rate,
        unit=row.unit,
        active=row.active,
    )


def row_from_opportunity(o: Opportunity) -> dict[str, Any]:
    c = o.customer
    return {
        "opportunity_id": o.opportunity_id,
        "lead_id": o.lead_id,
        "topic": o.topic,
        "state": o.state.value,
        "status_reason": o.status_reason,
        "account_id": c.account_id,
        "account_name": c.account_name,
        "contact_id": c.contact_id,
        "contact": {
            "first_name": c.contact.first_name,
            "last_name": c.contact.last_name,
            "email": c.contact.email,
            "phone": c.contact.phone,
            "job_title": c.contact.job_title,
        },
        "currency": o.currency,
        "estimated_revenue": o.estimated_revenue,
        "revenue_given": o.revenue_given,
        "estimated_close_date": o.estimated_close_date,
        "probability": o.probability,
        "pipeline_phase": o.pipeline_phase,
        "actual_revenue": o.actual_revenue,
        "opened_at": o.opened_at,
        "updated_at": o.updated_at,
        "closed_at": o.closed_at,
        "lead_source": o.source,
        "campaign_id": o.campaign_id,
        "notes": o.notes,
        "forecast_category": o.forecast_category,
        "close_date": o.close_date,
        "competitor": o.competitor,
    }


def opportunity_from_row(row: Row[Any]) -> Opportunity:
    contact = row.contact
    return Opportunity(
        opportunity_id=row.opportunity_id,
        lead_id=row.lead_id,
        topic=row.topic,
        customer=Customer(
            account_id=row.account_id,
            account_name=row.account_name,
            contact_id=row.contact_id,
            contact=Contact(
                first_name=contact["first_name"],
                last_name=contact["last_name"],
                email=contact.get("email"),
                phone=contact.get("phone"),
                job_title=contact.get("job_title"),
            ),
        ),
        currency=row.currency,
        state=OpportunityState(row.state),
        status_reason=row.status_reason,
        estimated_revenue=row.estimated_revenue,
        revenue_given=row.revenue_given,
        estimated_close_date=row.estimated_close_date,
        probability=row.probability,
        pipeline_phase=row.pipeline_phase,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        actual_revenue=row.actual_revenue,
        closed_at=row.closed_at,
        source=row.lead_source,
        campaign_id=row.campaign_id,
        notes=row.notes,
        forecast_category=row.forecast_category,
        close_date=row.close_date,
        competitor=row.competitor,
    )


def row_from_quote(q: Quote) -> dict[str, Any]:
    t = q.totals()
    return {
        "quote_id": q.quote_id,
        "opportunity_id": q.opportunity_id,
        "lead_id": q.lead_id,
        "revision": q.revision,
        "quote_number": q.quote_number,
        "state": q.state.value,
        "status_reason": q.status_reason,
        "price_list_id": q.price_list_id,
        "currency": q.currency,
        "lines": [line_to_json(line) for line in q.lines],
        # Kept for reporting (SQL over quotes); the lines are the truth and are re-summed on load.
        "totals": {
            "subtotal": str(t.subtotal),
            "discount_total": str(t.discount_total),
            "net_total": str(t.net_total),
            "tax_total": str(t.tax_total),
            "grand_total": str(t.grand_total),
            "fully_priced": q.fully_priced,
        },
        "payment_terms": q.payment_terms,
        "valid_from": q.valid_from,
        "valid_until": q.valid_until,
        "customer_po": q.customer_po,
        "accepted_by": q.accepted_by,
        "accepted_at": q.accepted_at,
        "created_at": q.created_at,
        "updated_at": q.updated_at,
        "closed_at": q.closed_at,
        "customer_details": details_to_json(q.customer_details),
        "quote_discount_rate": q.quote_discount_rate,
        "quote_discount_amount": q.quote_discount_amount,
        "base_currency": q.base_currency,
        "exchange_rate": q.exchange_rate,
        "rate_date": q.rate_date,
    }


def quote_from_row(row: Row[Any]) -> Quote:
    return Quote(
        quote_id=row.quote_id,
        opportunity_id=row.opportunity_id,
        lead_id=row.lead_id,
        revision=row.revision,
        quote_number=row.quote_number,
        state=QuoteState(row.state),
        status_reason=row.status_reason,
        price_list_id=row.price_list_id,
        currency=row.currency,
        lines=tuple(line_from_json(d) for d in row.lines),
        created_at=row.created_at,
        updated_at=row.updated_at,
        payment_terms=row.payment_terms,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        customer_po=row.customer_po,
        accepted_by=row.accepted_by,
        accepted_at=row.accepted_at,
        closed_at=row.closed_at,
        customer_details=details_from_json(row.customer_details),
        quote_discount_rate=row.quote_discount_rate,
        quote_discount_amount=row.quote_discount_amount,
        base_currency=row.base_currency,
        exchange_rate=row.exchange_rate,
        rate_date=row.rate_date,
    )


def line_to_json(line: QuoteLine) -> dict[str, Any]:
    """Decimals as strings: JSON numbers would pass through floats."""
    return {
        "line_no": line.line_no,
        "sku": line.sku,
        "description": line.description,
        "write_in": line.write_in,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": None if line.unit_price is None else str(line.unit_price),
        "discount_amount": str(line.discount_amount),
        "tax_rate": str(line.tax_rate),
        "discount_rate": None if line.discount_rate is None else str(line.discount_rate),
        "volume_rate": None if line.volume_rate is None else str(line.volume_rate),
    }


def line_from_json(d: Mapping[str, Any]) -> QuoteLine:
    return QuoteLine(
        line_no=int(d["line_no"]),
        sku=d.get("sku"),
        description=d["description"],
        write_in=bool(d["write_in"]),
        quantity=Decimal(d["quantity"]),
        unit=d["unit"],
        unit_price=None if d.get("unit_price") is None else Decimal(d["unit_price"]),
        discount_amount=Decimal(d["discount_amount"]),
        tax_rate=Decimal(d["tax_rate"]),
        discount_rate=None if d.get("discount_rate") is None else Decimal(d["discount_rate"]),
        volume_rate=None if d.get("volume_rate") is None else Decimal(d["volume_rate"]),
    )
