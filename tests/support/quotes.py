"""Builders of quote_svc's inbound envelopes for tests: prices, accounts' master data, qualified
leads, quote commands."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.accounts import AccountUpdated
from contracts.catalog import PriceListItemUpserted
from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope, make_envelope
from contracts.leads import ContactInfo, DecidedBy, LeadQualified, LeadSource, ProductInterest
from contracts.parties import AccountDetails, Address
from contracts.quotes import (
    AcceptQuote,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)
from contracts.topics import price_item_key
from tests.support.kafka_probe import RawRecord, record_of

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UPSTREAM = "test-upstream"
_NS = UUID("0e5a4b1c-7d2f-4a39-8b61-c3f2e1d0a9b8")


def price(
    sku: str,
    unit_price: str,
    *,
    price_list_id: str = "STANDARD",
    currency: str = "EUR",
    tax_rate: str = "0.19",
    active: bool = True,
    description: str | None = None,
    unit: str = "each",
) -> Envelope[PriceListItemUpserted]:
    payload = PriceListItemUpserted(
        price_list_id=price_list_id,
        sku=sku,
        description=description or f"Product {sku}",
        unit_price=Decimal(unit_price),
        currency=currency,
        tax_rate=Decimal(tax_rate),
        unit=unit,
        active=active,
    )
    return make_envelope(
        payload,
        event_type="catalog.price_upserted",
        deal_id=price_list_id,
        producer="catalog-loader",
        occurred_at=NOW,
    )


def price_record(envelope: Envelope[PriceListItemUpserted]) -> RawRecord:
    """The compacted price topic is keyed by item, not by deal."""
    p = envelope.payload
    plain = record_of("catalog.prices", envelope)
    return RawRecord(
        plain.topic, plain.value, price_item_key(p.price_list_id, p.sku).encode(), plain.headers
    )


def opportunity_id_of(lead_id: str) -> UUID:
    return uuid.uuid5(_NS, f"opportunity:{lead_id}")


def account_id_of(lead_id: str) -> UUID:
    """The account `qualified` links the lead to (unless told another)."""
    return uuid.uuid5(_NS, f"account:{lead_id}")


def account_updated(
    account_id: UUID,
    version: int,
    details: AccountDetails,
    *,
    changed: tuple[str, ...] = ("ship_to",),
) -> Envelope[AccountUpdated]:
    """An account's master data after a change, as lead_svc publishes it: keyed by the account
    (the envelope's deal id is the account id)."""
    payload = AccountUpdated(
        account_id=account_id,
        version=version,
        details=details,
        changed=changed,
        created=version == 1,
    )
    return make_envelope(
        payload,
        event_type="account.updated",
        deal_id=str(account_id),
        producer="lead_svc",
        occurred_at=NOW,
    )


def qualified(
    lead_id: str,
    *,
    interests: tuple[tuple[str, str], ...] = (("SKU-1001", "10"),),
    estimated_revenue: str | None = None,
    currency: str = "EUR",
    at: datetime = NOW,
    account_id: UUID | None = None,
    account: AccountDetails | None = None,
    account_version: int | None = None,
    source: LeadSource | None = None,
    campaign_id: str | None = None,
    notes: str | None = None,
) -> Envelope[LeadQualified]:
    payload = LeadQualified(
        lead_id=lead_id,
        account_id=account_id or account_id_of(lead_id),
        account_name=f"Acme {lead_id}",
        account_is_new=True,
        contact_id=uuid.uuid5(_NS, f"contact:{lead_id}"),
        contact=ContactInfo(
            first_name="Ada",
            last_name=f"Lovelace-{lead_id}",
            email=f"{lead_id}@example.com",
            phone=None,
        ),
        opportunity_id=opportunity_id_of(lead_id),
        topic="widgets",
        estimated_revenue=Decimal(estimated_revenue) if estimated_revenue else None,
        currency=currency,
        estimated_close_date=None,
        product_interests=tuple(
            ProductInterest(sku=sku, quantity=Decimal(qty)) for sku, qty in interests
        ),
        qualified_by=DecidedBy.POLICY,
        rule="auto:fit",
        source=source,
        campaign_id=campaign_id,
        notes=notes,
        account=account,
        account_version=account_version,
    )
    return make_envelope(
        payload, event_type="lead.qualified", deal_id=lead_id, producer="lead_svc", occurred_at=at
    )


def line(
    sku: str | None,
    quantity: str,
    *,
    unit_price: str | None = None,
    discount: str = "0",
    tax_rate: str | None = None,
    description: str | None = None,
) -> QuoteLineInput:
    return QuoteLineInput(
        sku=sku,
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price) if unit_price is not None else None,
        discount_amount=Decimal(discount),
        tax_rate=Decimal(tax_rate) if tax_rate is not None else None,
    )


def revise(deal_id: str, quote_id: UUID, *lines: QuoteLineInput) -> Envelope[ReviseQuote]:
    payload = ReviseQuote(quote_id=quote_id, lines=lines, requested_by="rep", note=None)
    return _command(payload, "quote.revise", deal_id)


def accept(
    deal_id: str,
    quote_id: UUID,
    *,
    po: str | None = "PO-1",
    invoicing_policy: InvoicingPolicy | None = None,
    down_payment_rate: str | None = None,
    ship_to: Address | None = None,
    requested_delivery_date: date | None = None,
    shipping_method: str | None = None,
) -> Envelope[AcceptQuote]:
    payload = AcceptQuote(
        quote_id=quote_id,
        accepted_by="customer",
        customer_po=po,
        invoicing_policy=invoicing_policy,
        down_payment_rate=None if down_payment_rate is None else Decimal(down_payment_rate),
        ship_to=ship_to,
        requested_delivery_date=requested_delivery_date,
        shipping_method=shipping_method,
    )
    return _command(payload, "quote.accept", deal_id)


def reject(
    deal_id: str, quote_id: UUID, reason: QuoteRejectReason = QuoteRejectReason.LOST
) -> Envelope[RejectQuote]:
    payload = RejectQuote(quote_id=quote_id, reason=reason, requested_by="rep", note=None)
    return _command(payload, "quote.reject", deal_id)


def _command(payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
    return make_envelope(
        payload, event_type=event_type, deal_id=deal_id, producer=UPSTREAM, occurred_at=NOW
    )


def command(deal_id: str, payload: Any) -> Envelope[Any]:
    """Any quote or opportunity command of `deal_id` (the type from its payload)."""
    return _command(payload, type(payload).EVENT_TYPE, deal_id)
