"""Translation between the published language (contracts) and order_svc's domain values.

Kept apart from the handlers so that both directions of one mapping sit next to each other:
an accepted quote, a shipment and a posted invoice in; the confirmed / fulfilled / cancelled order
out.
"""

from __future__ import annotations

from decimal import Decimal

from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.invoices import InvoicePosted
from contracts.leads import ContactInfo
from contracts.orders import (
    FulfilledLine,
    FulfilmentCompleteness,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
    RecordFulfilment,
)
from contracts.quotes import QuoteAccepted
from services.order_svc import domain


def accepted_quote(q: QuoteAccepted) -> domain.AcceptedQuote:
    """The quote as the customer accepted it; its line amounts and totals are still claims."""
    c = q.contact
    return domain.AcceptedQuote(
        quote=domain.QuoteRef(q.quote_id, q.quote_number, q.revision),
        customer=domain.Customer(
            opportunity_id=q.opportunity_id,
            lead_id=q.lead_id,
            account_id=q.account_id,
            account_name=q.account_name,
            contact_id=q.contact_id,
            contact=domain.Contact(c.first_name, c.last_name, c.email, c.phone, c.job_title),
        ),
        price_list_id=q.price_list_id,
        currency=q.currency,
        lines=tuple(
            domain.OrderLine(
                line_no=line.line_no,
                sku=line.sku,
                description=line.description,
                write_in=line.write_in,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amounts=line.amounts(q.currency),
            )
            for line in q.lines
        ),
        totals=q.totals.to_money(q.currency),
        payment_terms=q.payment_terms.value,
        customer_po=q.customer_po,
        accepted_at=q.accepted_at,
    )


def shipped(command: RecordFulfilment) -> list[tuple[int, Decimal]]:
    """(line number, quantity shipped) of one shipment, as the fulfilment system sent them."""
    return [(line.line_no, line.quantity_shipped) for line in command.lines]


def invoice_ref(posted: InvoicePosted) -> domain.InvoiceRef:
    return domain.InvoiceRef(posted.invoice_id, posted.invoice_number)


def order_confirmed(order: domain.Order) -> OrderConfirmed:
    """Everything an ERP connector needs to book the order, without asking anyone."""
    customer, contact = order.customer, order.customer.contact
    return OrderConfirmed(
        order_id=order.order_id,
        order_number=order.order_number,
        quote_id=order.quote.quote_id,
        quote_number=order.quote.quote_number,
        opportunity_id=customer.opportunity_id,
        lead_id=customer.lead_id,
        account_id=customer.account_id,
        account_name=customer.account_name,
        contact_id=customer.contact_id,
        contact=ContactInfo(
            first_name=contact.first_name,
            last_name=contact.last_name,
            email=contact.email,
            phone=contact.phone,
            job_title=contact.job_title,
        ),
        price_list_id=order.price_list_id,
        currency=order.currency,
        lines=tuple(_document_line(line) for line in order.lines),
        totals=DocumentTotals.from_money(order.totals),
        payment_terms=PaymentTerms(order.payment_terms),
        customer_po=order.customer_po,
        confirmed_at=order.confirmed_at,
    )


def order_fulfilled(
    order: domain.Order, shipment_ref: str, completeness: domain.Completeness
) -> OrderFulfilled:
    return OrderFulfilled(
        order_id=order.order_id,
        order_number=order.order_number,
        shipment_ref=shipment_ref,
        completeness=FulfilmentCompleteness(completeness.value),
        lines=tuple(
            FulfilledLine(
                line_no=line.line_no,
                quantity_ordered=line.quantity,
                quantity_shipped_total=order.shipped_of(line.line_no),
            )
            for line in order.lines
        ),
    )


def order_cancelled(order: domain.Order, reason: str) -> OrderCancelled:
    return OrderCancelled(order_id=order.order_id, order_number=order.order_number, reason=reason)


def _document_line(line: domain.OrderLine) -> DocumentLine:
    a = line.amounts
    return DocumentLine(
        line_no=line.line_no,
        sku=line.sku,
        description=line.description,
        write_in=line.write_in,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_amount=a.discount,
        tax_rate=line.tax_rate,
        base_amount=a.base,
        net_amount=a.net,
        tax_amount=a.tax,
        total_amount=a.total,
    )
