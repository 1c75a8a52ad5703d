"""Translation between the published language (contracts) and quote_svc's domain values.

Money reaches the wire only through `DocumentLine.priced` and `DocumentTotals.from_money`, the
same rule order_svc and invoice_svc apply, so the totals agree to the cent across the chain.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.accounts import AccountUpdated
from contracts.catalog import PriceListItemUpserted, VolumeDiscountUpserted
from contracts.documents import (
    BaseAmounts,
    DocumentLine,
    DocumentTotals,
    InvoicingPolicy,
    PaymentTerms,
)
from contracts.leads import ContactInfo, LeadQualified
from contracts.opportunities import (
    CloseOpportunity,
    CreateQuote,
    DraftLine,
    ForecastCategory,
    OpportunityOpened,
    OpportunityUpdated,
    QuoteDrafted,
    UpdateOpportunity,
)
from contracts.parties import AccountDetails, Address, CustomerDetails
from contracts.quotes import (
    AcceptQuote,
    OpportunityClosed,
    OpportunityOutcome,
    QuoteAccepted,
    QuoteClosed,
    QuoteCloseStatus,
    QuoteIssued,
    QuoteLineInput,
    QuoteRejectReason,
    ReviseQuote,
)
from contracts.rates import ExchangeRatePublished
from services.quote_svc import domain

# --- inbound: payloads -> domain values --------------------------------------------------------


def price_item_of(p: PriceListItemUpserted) -> domain.PriceItem:
    return domain.PriceItem(
        price_list_id=p.price_list_id,
        sku=p.sku,
        description=p.description,
        unit_price=p.unit_price,
        currency=p.currency,
        tax_rate=p.tax_rate,
        unit=p.unit,
        active=p.active,
    )


def qualification_of(lead: LeadQualified) -> domain.Qualification:
    c = lead.contact
    return domain.Qualification(
        lead_id=lead.lead_id,
        opportunity_id=lead.opportunity_id,
        topic=lead.topic,
        customer=domain.Customer(
            account_id=lead.account_id,
            account_name=lead.account_name,
            contact_id=lead.contact_id,
            contact=domain.Contact(
                first_name=c.first_name,
                last_name=c.last_name,
                email=c.email,
                phone=c.phone,
                job_title=c.job_title,
            ),
        ),
        currency=lead.currency,
        interests=tuple(
            domain.LineRequest(sku=i.sku, quantity=i.quantity, description=i.description)
            for i in lead.product_interests
        ),
        estimated_revenue=lead.estimated_revenue,
        estimated_close_date=lead.estimated_close_date,
        source=None if lead.source is None else lead.source.value,
        campaign_id=lead.campaign_id,
        notes=lead.notes,
        # Versioned like account.updated when lead_svc says which version it carries (older
        # producers do not: FROM_LEAD, below every version).
        account=None
        if lead.account is None
        else account_of(lead.account_id, lead.account_version or domain.FROM_LEAD, lead.account),
    )


def account_updated(event: AccountUpdated) -> domain.Account:
    return account_of(event.account_id, event.version, event.details)


def account_of(account_id: UUID, version: int, details: AccountDetails) -> domain.Account:
    return domain.Account(
        account_id=account_id,
        version=version,
        name=details.name,
        legal_name=details.legal_name,
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
        bill_to=address_of(details.bill_to),
        ship_to=address_of(details.ship_to),
        default_currency=details.default_currency,
        payment_terms=None if details.payment_terms is None else details.payment_terms.value,
    )


def address_of(address: Address | None) -> domain.Address | None:
    if address is None:
        return None
    return domain.Address(
        lines=address.lines,
        city=address.city,
        country=address.country,
        postal_code=address.postal_code,
        region=address.region,
    )


def rate_of(p: ExchangeRatePublished) -> domain.ExchangeRate:
    return domain.ExchangeRate(p.from_currency, p.to_currency, p.valid_on, p.rate)


def waiting_pair(lead: LeadQualified, policy: domain.QuotePolicy, book: Any) -> tuple[str, str]:
    """The pair whose rate a qualification waits for: the lead's currency to its list's."""
    catalog = book.catalog(policy.price_list_for(lead.currency))
    requests = [domain.LineRequest(sku=i.sku, quantity=i.quantity) for i in lead.product_interests]
    return lead.currency, domain.quote_currency(requests, catalog, lead.currency)


def volume_list_of(p: VolumeDiscountUpserted) -> domain.VolumeList:
    tiers = sorted((t.min_quantity, t.discount_rate) for t in p.tiers)
    return domain.VolumeList(p.price_list_id, p.sku, tuple(tiers))


def document_discount_of(command: ReviseQuote | CreateQuote) -> domain.DocumentDiscount:
    return domain.DocumentDiscount(command.quote_discount_rate, command.quote_discount_amount)


def request_of(line: QuoteLineInput) -> domain.LineRequest:
    return domain.LineRequest(
        sku=line.sku,
        quantity=line.quantity,
        description=line.description,
        unit_price=line.unit_price,
        discount_rate=line.discount_rate,
        discount_amount=line.discount_amount,
        tax_rate=line.tax_rate,
    )


def reject_reason_of(reason: QuoteRejectReason) -> domain.RejectReason:
    return domain.RejectReason(reason.value)


def billing_terms_of(command: AcceptQuote) -> domain.BillingTerms:
    policy = command.invoicing_policy
    return domain.BillingTerms(
        policy=None if policy is None else domain.BillingPolicy(policy.value),
        down_payment_rate=command.down_payment_rate,
    )


def delivery_terms_of(command: AcceptQuote) -> domain.DeliveryTerms:
    return domain.DeliveryTerms(
        ship_to=address_of(command.ship_to),
        requested_delivery_date=command.requested_delivery_date,
        shipping_method=command.shipping_method,
    )


# --- outbound: domain values -> event payloads -------------------------------------------------


def quote_issued(quote: domain.Quote, opportunity: domain.Opportunity) -> QuoteIssued:
    if quote.valid_from is None or quote.valid_until is None:
        raise ValueError(f"quote {quote.quote_id} is issued without a validity window")
    return QuoteIssued(
        **_document(quote, opportunity), valid_from=quote.valid_from, valid_until=quote.valid_until
    )


def quote_accepted(
    quote: domain.Quote,
    opportunity: domain.Opportunity,
    terms: domain.BillingTerms,
    delivery: domain.DeliveryTerms,
) -> QuoteAccepted:
    if quote.accepted_at is None:
        raise ValueError(f"quote {quote.quote_id} has no acceptance time")
    return QuoteAccepted(
        **_document(quote, opportunity),
        customer_po=quote.customer_po,
        invoicing_policy=None if terms.policy is None else InvoicingPolicy(terms.policy.value),
        down_payment_rate=terms.down_payment_rate,
        requested_delivery_date=delivery.requested_delivery_date,
        shipping_method=delivery.shipping_method,
        accepted_at=quote.accepted_at,
    )


def quote_closed(quote: domain.Quote, status: domain.CloseStatus, detail: str) -> QuoteClosed:
    return QuoteClosed(
        quote_id=quote.quote_id,
        quote_number=quote.quote_number,
        revision=quote.revision,
        status=QuoteCloseStatus(status.value),
        detail=detail,
    )


def opportunity_closed(opportunity: domain.Opportunity) -> OpportunityClosed:
    won = opportunity.state is domain.OpportunityState.WON
    return OpportunityClosed(
        opportunity_id=opportunity.opportunity_id,
        lead_id=opportunity.lead_id,
        outcome=OpportunityOutcome.WON if won else OpportunityOutcome.LOST,
        status_reason=opportunity.status_reason,
        actual_revenue=opportunity.actual_revenue if won else None,
        currency=opportunity.currency,
        close_date=opportunity.close_date,
        competitor=opportunity.competitor,
    )


def estimates_of(command: UpdateOpportunity) -> domain.Estimates:
    return domain.Estimates(
        estimated_revenue=command.estimated_revenue,
        estimated_close_date=command.estimated_close_date,
        probability=command.probability,
        pipeline_phase=command.pipeline_phase,
        forecast_category=command.forecast_category.value if command.forecast_category else None,
        status_reason=command.status_reason.value if command.status_reason else None,
    )


def closing_of(command: CloseOpportunity) -> domain.Closing:
    return domain.Closing(
        won=command.outcome is OpportunityOutcome.WON,
        status_reason=command.status_reason.value,
        actual_revenue=command.actual_revenue,
        close_date=command.close_date,
        competitor=command.competitor,
    )


def _opportunity(o: domain.Opportunity) -> dict[str, Any]:
    return {
        "opportunity_id": o.opportunity_id,
        "lead_id": o.lead_id,
        "topic": o.topic,
        "account_id": o.customer.account_id,
        "account_name": o.customer.account_name,
        "currency": o.currency,
        "state": o.state.value,
        "status_reason": o.status_reason,
        "estimated_revenue": o.estimated_revenue,
        "revenue_given": o.revenue_given,
        "estimated_close_date": o.estimated_close_date,
        "probability": o.probability,
        "pipeline_phase": o.pipeline_phase,
        "forecast_category": ForecastCategory(o.forecast_category),
        "actual_revenue": o.actual_revenue,
        "competitor": o.competitor,
    }


def opportunity_opened(opportunity: domain.Opportunity) -> OpportunityOpened:
    return OpportunityOpened(**_opportunity(opportunity))


def opportunity_updated(
    opportunity: domain.Opportunity, changed: tuple[str, ...], reason: str
) -> OpportunityUpdated:
    return OpportunityUpdated(**_opportunity(opportunity), changed=changed, reason=reason)


def quote_drafted(quote: domain.Quote, opportunity: domain.Opportunity) -> QuoteDrafted:
    unpriced = tuple(line.line_no for line in quote.lines if not line.priced)
    return QuoteDrafted(
        quote_id=quote.quote_id,
        quote_number=quote.quote_number,
        revision=quote.revision,
        opportunity_id=quote.opportunity_id,
        lead_id=quote.lead_id,
        account_name=opportunity.customer.account_name,
        price_list_id=quote.price_list_id,
        currency=quote.currency,
        lines=tuple(
            DraftLine(
                line_no=line.line_no,
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_amount=line.discount_amount,
                tax_rate=line.tax_rate,
            )
            for line in quote.lines
        ),
        unpriced_lines=unpriced,
        waiting_for="needs_price" if unpriced or not quote.lines else "awaiting_activation",
    )


def document_line(line: domain.QuoteLine, currency: str) -> DocumentLine:
    if line.unit_price is None:
        raise ValueError(f"line {line.line_no} has no price and cannot be published")
    priced = DocumentLine.priced(
        line_no=line.line_no,
        sku=line.sku,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_amount=line.discount_amount,
        tax_rate=line.tax_rate,
        currency=currency,
    )
    # `priced` calls a line without sku a write-in; an interest whose sku is not on the price
    # list keeps its sku for lineage but was priced by hand, which is what write_in says.
    if priced.write_in != line.write_in:
        return priced.model_copy(update={"write_in": line.write_in})
    return priced


def _document(quote: domain.Quote, opportunity: domain.Opportunity) -> dict[str, Any]:
    customer = opportunity.customer
    c = customer.contact
    return {
        "quote_id": quote.quote_id,
        "quote_number": quote.quote_number,
        "revision": quote.revision,
        "opportunity_id": quote.opportunity_id,
        "lead_id": quote.lead_id,
        "account_id": customer.account_id,
        "account_name": customer.account_name,
        "contact_id": customer.contact_id,
        "contact": ContactInfo(
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            job_title=c.job_title,
        ),
        "price_list_id": quote.price_list_id,
        "customer_details": customer_details(quote.customer_details),
        "currency": quote.currency,
        "lines": tuple(document_line(line, quote.currency) for line in quote.lines),
        "totals": DocumentTotals.from_money(quote.totals()),
        "payment_terms": PaymentTerms(quote.payment_terms or PaymentTerms.NET_30.value),
        "quote_discount_rate": quote.quote_discount_rate,
        "quote_discount_amount": quote.quote_discount_amount,
        "base": base_amounts(quote),
    }


def base_amounts(quote: domain.Quote) -> BaseAmounts | None:
    """The quote's totals in the base currency at the rate taken on issue (None on quotes
    issued before quotes carried one)."""
    if quote.exchange_rate is None or quote.base_currency is None or quote.rate_date is None:
        return None
    totals = DocumentTotals.from_money(quote.totals())
    return BaseAmounts.of(
        totals, quote.currency, quote.exchange_rate, quote.base_currency, quote.rate_date
    )


def customer_details(details: domain.CustomerDetails | None) -> CustomerDetails | None:
    if details is None:
        return None
    return CustomerDetails(
        account_id=details.account_id,
        sold_to=details.sold_to,
        bill_to=address(details.bill_to),
        ship_to=address(details.ship_to),
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
    )


def address(value: domain.Address | None) -> Address | None:
    if value is None:
        return None
    return Address(
        lines=value.lines,
        city=value.city,
        postal_code=value.postal_code,
        region=value.region,
        country=value.country,
    )
