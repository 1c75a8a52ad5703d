"""Postgres adapter of order_svc: load a batch's book in two queries, save what changed.

SQLAlchemy Core with multi-row / executemany statements, no ORM on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.money import DocumentTotals, LineAmounts
from services.order_svc.domain import (
    Address,
    BaseRate,
    BillingPolicy,
    BillingTerms,
    Contact,
    Customer,
    CustomerDetails,
    ErpRefusal,
    InvoiceRef,
    Order,
    OrderLine,
    OrderState,
    QuoteRef,
)
from services.order_svc.store.book import OrderBook, Touches
from services.order_svc.store.tables import order_counters, orders
from shared.counters import YearCounters
from shared.db import any_of, insert_many, upsert_many


class OrderStore:
    """Postgres adapter of order_svc (SQLAlchemy Core, no ORM on the hot path)."""

    async def load(self, conn: AsyncConnection, touches: Touches) -> OrderBook:
        """Lock and read what the batch touches: the year's counter, then the orders by id, by
        quote id, and all of the touched deals'.

        An invoice.paid names only its deal (the key) and its invoice, so its order is found among
        the deal's orders; `ix_orders_deal_id` serves that lookup. ERP commands may name an order
        by number, and an acknowledgement's ERP number is checked against other orders: the
        UNIQUE order_number and `uq_orders_erp_order_number` serve those.
        """
        book = OrderBook()
        if touches.counter_year is not None:
            # The counter row is created if missing and locked BEFORE the orders are read: two
            # members handling the same quote during a rebalance queue here, and the second one
            # then reads the first one's committed order (order_exists) instead of a second one.
            # The orders are read by a statement of their own, whose snapshot starts after the
            # wait.
            book.counters.update(await _COUNTERS.lock(conn, [touches.counter_year]))
        ids, quotes = sorted(touches.order_ids), sorted(touches.quote_ids)
        deals = sorted(touches.deal_ids)
        conditions = []
        if ids:
            conditions.append(any_of(orders.c.order_id, ids))
        if quotes:
            conditions.append(any_of(orders.c.quote_id, quotes))
        if deals:
            conditions.append(any_of(orders.c.deal_id, deals))
        if touches.order_numbers:
            conditions.append(any_of(orders.c.order_number, sorted(touches.order_numbers)))
        if touches.erp_order_numbers:
            erp_numbers = sorted(touches.erp_order_numbers)
            conditions.append(any_of(orders.c.erp_order_number, erp_numbers))
        if touches.unacknowledged_before is not None:
            c = orders.c
            conditions.append(
                and_(
                    c.state == OrderState.SUBMITTED.value,
                    c.erp_order_number.is_(None),
                    c.ack_alerted_at.is_(None),
                    c.confirmed_at < touches.unacknowledged_before,
                )
            )
        if conditions:
            rows = await conn.execute(
                select(orders).where(or_(*conditions)).order_by(orders.c.order_id).with_for_update()
            )
            for row in rows:
                book.remember(order_from_row(row))
        return book

    async def save(self, conn: AsyncConnection, book: OrderBook) -> None:
        await _COUNTERS.save(conn, {year: book.counters[year] for year in book.counters_changed})
        # A plain INSERT, never an upsert: a concurrent twin must fail on UNIQUE, not silently
        # overwrite the order another member already confirmed.
        await insert_many(conn, orders, [row_from_order(o) for o in book.created.values()])
        await upsert_many(
            conn, orders, [row_from_order(o) for o in book.changed.values()], ["order_id"]
        )


_COUNTERS = YearCounters(order_counters)


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
        "contact": _contact_to_json(customer.contact),
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
        "customer_details": _details_to_json(order.customer_details),
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
        customer_details=_details_from_json(row.customer_details),
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


def _contact_to_json(c: Contact) -> dict[str, Any]:
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "job_title": c.job_title,
    }


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


def _address_to_json(a: Address | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "lines": list(a.lines),
        "city": a.city,
        "postal_code": a.postal_code,
        "region": a.region,
        "country": a.country,
    }


def _address_from_json(d: Mapping[str, Any] | None) -> Address | None:
    if d is None:
        return None
    return Address(
        lines=tuple(d["lines"]),
        city=d["city"],
        country=d["country"],
        postal_code=d.get("postal_code"),
        region=d.get("region"),
    )


def _details_to_json(c: CustomerDetails | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "account_id": str(c.account_id),
        "sold_to": c.sold_to,
        "bill_to": _address_to_json(c.bill_to),
        "ship_to": _address_to_json(c.ship_to),
        "tax_id": c.tax_id,
        "erp_customer_number": c.erp_customer_number,
    }


def _details_from_json(d: Mapping[str, Any] | None) -> CustomerDetails | None:
    if d is None:
        return None
    return CustomerDetails(
        account_id=UUID(d["account_id"]),
        sold_to=d["sold_to"],
        bill_to=_address_from_json(d.get("bill_to")),
        ship_to=_address_from_json(d.get("ship_to")),
        tax_id=d.get("tax_id"),
        erp_customer_number=d.get("erp_customer_number"),
    )
