"""How order_svc's orders are written to and read from their rows: the order with its lines and
quantities as JSONB (decimals as strings: JSON numbers would pass through floats)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Row

from contracts.money import DocumentTotals, LineAmounts
from services.order_svc.domain import (
    BaseRate,
    BillingPolicy,
    BillingTerms,
    Contact,
    Customer,
    ErpRefusal,
    InvoiceRef,
    Order,
    OrderLine,
    OrderState,
    QuoteRef,
)
from services.order_svc.store.parties import contact_to_json, details_from_json, details_to_json


def row_from_order(order: Order) -> dict[str, Any]:
    customer, totals, invoice = order.customer, order.totals, order.invoice
    completeness = order.completeness
    return {
        "order_id": order.order_id,
        "quote_id": order.quote.quote_id,
        "order_number": order.order_number,
        "quote_number": order.quote.quote_number,
        "quote_revision": order.quote.revision,
        "deal_id": order.deal_id,
        "state": order.state.value,
        "completeness": completeness.value if completeness else None,
        "opportunity_id": customer.opportunity_id,
        "lead_id": customer.lead_id,
        "account_id": customer.account_id,
        "account_name": customer.account_name,
        "contact_id": customer.contact_id,
        "contact": contact_to_json(customer.contact),
        "price_list_id": order.price_list_id,
        "currency": order.currency,
        "lines": [_line_to_json(line) for line in order.lines],
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "net_total": totals.net_total,
        "tax_total": totals.tax_total,
        "grand_total": totals.grand_total,
        "payment_terms": order.payment_terms,
        "customer_po": order.customer_po,
        "shipped": _quantities_to_json(order.shipped),
        "shipment_refs": sorted(order.shipment_refs),
        "invoices": [
            {"invoice_id": str(i.invoice_id), "invoice_number": i.invoice_number, "paid": i.paid}
            for i in order.invoices
        ],
        "invoice_id": invoice.invoice_id if invoice else None,
        "invoice_number": invoice.invoice_number if invoice else None,
        "cancel_reason": order.cancel_reason,
        "invoicing_policy": order.billing.policy.value if order.billing.policy else None,
        "down_payment_rate": order.billing.down_payment_rate,
        "billing_status": order.billing_status.value,
        "invoiced": _quantities_to_json(order.invoiced),
        "credited": _quantities_to_json(order.credited),
        "credit_note_ids": sorted(str(c) for c in order.credit_notes),
        "confirmed_at": order.confirmed_at,
        "updated_at": order.updated_at,
        "customer_details": details_to_json(order.customer_details),
        "requested_delivery_date": order.requested_delivery_date,
        "shipping_method": order.shipping_method,
        "erp_order_number": order.erp_order_number,
        "erp_refusal_code": order.erp_refusal.reason_code if order.erp_refusal else None,
        "erp_refusal_detail": order.erp_refusal.detail if order.erp_refusal else None,
        "ack_alerted_at": order.ack_alerted_at,
        "base_currency": order.base.base_currency if order.base else None,
        "exchange_rate": order.base.exchange_rate if order.base else None,
        "rate_date": order.base.rate_date if order.base else None,
    }


def order_from_row(row: Row[Any] | Any) -> Order:
    currency = row.currency
    return Order(
        order_id=row.order_id,
        order_number=row.order_number,
        deal_id=row.deal_id,
        quote=QuoteRef(row.quote_id, row.quote_number, row.quote_revision),
        customer=Customer(
            opportunity_id=row.opportunity_id,
            lead_id=row.lead_id,
            account_id=row.account_id,
            account_name=row.account_name,
            contact_id=row.contact_id,
            contact=Contact(**row.contact),
        ),
        price_list_id=row.price_list_id,
        currency=currency,
        lines=tuple(_line_from_json(d, currency) for d in row.lines),
        totals=DocumentTotals(
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            net_total=row.net_total,
            tax_total=row.tax_total,
            grand_total=row.grand_total,
            currency=currency,
        ),
        payment_terms=row.payment_terms,
        customer_po=row.customer_po,
        state=OrderState(row.state),
        confirmed_at=row.confirmed_at,
        updated_at=row.updated_at,
        shipped=_quantities_from_json(row.shipped),
        shipment_refs=frozenset(row.shipment_refs),
        # Entries written before payments were tracked have no "paid": no payment was seen.
        invoices=tuple(
            InvoiceRef(UUID(i["invoice_id"]), i["invoice_number"], bool(i.get("paid", False)))
            for i in row.invoices
        ),
        cancel_reason=row.cancel_reason,
        billing=BillingTerms(
            policy=BillingPolicy(row.invoicing_policy) if row.invoicing_policy else None,
            down_payment_rate=row.down_payment_rate,
        ),
        invoiced=_quantities_from_json(row.invoiced),
        credited=_quantities_from_json(row.credited),
        credit_notes=frozenset(UUID(c) for c in row.credit_note_ids),
        customer_details=details_from_json(row.customer_details),
        requested_delivery_date=row.requested_delivery_date,
        shipping_method=row.shipping_method,
        erp_order_number=row.erp_order_number,
        erp_refusal=None
        if row.erp_refusal_code is None
        else ErpRefusal(row.erp_refusal_code, row.erp_refusal_detail or ""),
        ack_alerted_at=row.ack_alerted_at,
        base=None
        if row.base_currency is None
        else BaseRate(row.base_currency, row.exchange_rate, row.rate_date),
    )


def _quantities_to_json(quantities: Mapping[int, Decimal]) -> dict[str, str]:
    return {str(n): str(q) for n, q in sorted(quantities.items())}


def _quantities_from_json(stored: Mapping[str, str]) -> Mapping[int, Decimal]:
    return MappingProxyType({int(n): Decimal(q) for n, q in stored.items()})


def _line_to_json(line: OrderLine) -> dict[str, Any]:
    a = line.amounts
    return {
        "line_no": line.line_no,
        "sku": line.sku,
        "description": line.description,
        "write_in": line.write_in,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "tax_rate": str(line.tax_rate),
        "base": str(a.base),
        "discount": str(a.discount),
        "net": str(a.net),
        "tax": str(a.tax),
        "total": str(a.total),
    }


def _line_from_json(d: dict[str, Any], currency: str) -> OrderLine:
    return OrderLine(
        line_no=d["line_no"],
        sku=d["sku"],
        description=d["description"],
        write_in=d["write_in"],
        quantity=Decimal(d["quantity"]),
        unit=d["unit"],
        unit_price=Decimal(d["unit_price"]),
        tax_rate=Decimal(d["tax_rate"]),
        amounts=LineAmounts(
            base=Decimal(d["base"]),
            discount=Decimal(d["discount"]),
            net=Decimal(d["net"]),
            tax=Decimal(d["tax"]),
            total=Decimal(d["total"]),
            currency=currency,
        ),
    )
