"""Translation between the published language (contracts) and order_svc's domain values.

Kept apart from the handlers so that both directions of one mapping sit next to each other:
an accepted quote, a shipment, the ERP's answers, a posted invoice and a credit note in; the
confirmed / fulfilled / cancelled / invoiced / acknowledged / refused / resubmitted order out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.alerts import OrderHandoffStale
from contracts.billing import InvoiceCredited
from contracts.documents import (
    BaseAmounts,
    DocumentLine,
    DocumentTotals,
    InvoicingPolicy,
    PaymentTerms,
)
from contracts.invoices import InvoicePosted
from contracts.leads import ContactInfo
from contracts.orders import (
    BillingStatus,
    FulfilledLine,
    FulfilmentCompleteness,
    InvoicedLine,
    OrderAcknowledged,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
    OrderInvoiced,
    OrderRefused,
    OrderResubmitted,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
)
from contracts.parties import Address, CustomerDetails
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
        base=None
        if q.base is None
        else domain.BaseRate(q.base.base_currency, q.base.exchange_rate, q.base.rate_date),
        billing=domain.BillingTerms(
            policy=None
            if q.invoicing_policy is None
            else domain.BillingPolicy(q.invoicing_policy.value),
            down_payment_rate=q.down_payment_rate,
        ),
        customer_details=customer_details_of(q.customer_details),
        requested_delivery_date=q.requested_delivery_date,
        shipping_method=q.shipping_method,
    )


def customer_details_of(details: CustomerDetails | None) -> domain.CustomerDetails | None:
    if details is None:
        return None
    return domain.CustomerDetails(
        account_id=details.account_id,
        sold_to=details.sold_to,
        bill_to=address_of(details.bill_to),
        ship_to=address_of(details.ship_to),
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
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


def erp_refusal_of(command: RefuseOrder) -> domain.ErpRefusal:
    return domain.ErpRefusal(command.reason_code, command.detail)


def corrections_of(command: ResubmitOrder) -> domain.Corrections:
    return domain.Corrections(
        ship_to=address_of(command.ship_to),
        requested_delivery_date=command.requested_delivery_date,
        shipping_method=command.shipping_method,
        customer_po=command.customer_po,
    )


def shipped(command: RecordFulfilment) -> list[tuple[int, Decimal]]:
    """(line number, quantity shipped) of one shipment, as the fulfilment system sent them."""
    return [(line.line_no, line.quantity_shipped) for line in command.lines]


def posted_invoice(posted: InvoicePosted) -> domain.PostedInvoice:
    return domain.PostedInvoice(
        invoice_id=posted.invoice_id,
        invoice_number=posted.invoice_number,
        kind=domain.InvoiceKind(posted.kind.value),
        lines=tuple((line.line_no, line.quantity) for line in posted.lines),
    )


def credit_note(credited: InvoiceCredited) -> domain.CreditNote:
    # `order_lines`, not `lines`: a credit note's own lines are numbered as on its invoice.
    return domain.CreditNote(
        credit_note_id=credited.credit_note_id,
        credit_note_number=credited.credit_note_number,
        invoice_id=credited.invoice_id,
        lines=tuple((line.line_no, line.quantity) for line in credited.order_lines),
    )


def order_confirmed(order: domain.Order) -> OrderConfirmed:
    """Everything an ERP connector needs to book the order, without asking anyone."""
    return OrderConfirmed(**_document(order))


def order_resubmitted(order: domain.Order) -> OrderResubmitted:
    """The whole document again, corrected, under the same order id and number."""
    return OrderResubmitted(**_document(order))


def order_acknowledged(order: domain.Order) -> OrderAcknowledged:
    if order.erp_order_number is None:
        raise ValueError(f"order {order.order_id} has no ERP order number")
    return OrderAcknowledged(
        order_id=order.order_id,
        order_number=order.order_number,
        erp_order_number=order.erp_order_number,
    )


def order_refused(order: domain.Order, refusal: domain.ErpRefusal) -> OrderRefused:
    return OrderRefused(
        order_id=order.order_id,
        order_number=order.order_number,
        reason_code=refusal.reason_code,
        detail=refusal.detail,
    )


def _document(order: domain.Order) -> dict[str, Any]:
    customer, contact = order.customer, order.customer.contact
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "quote_id": order.quote.quote_id,
        "quote_number": order.quote.quote_number,
        "opportunity_id": customer.opportunity_id,
        "lead_id": customer.lead_id,
        "account_id": customer.account_id,
        "account_name": customer.account_name,
        "contact_id": customer.contact_id,
        "contact": ContactInfo(
            first_name=contact.first_name,
            last_name=contact.last_name,
            email=contact.email,
            phone=contact.phone,
            job_title=contact.job_title,
        ),
        "price_list_id": order.price_list_id,
        "currency": order.currency,
        "lines": tuple(_document_line(line) for line in order.lines),
        "totals": DocumentTotals.from_money(order.totals),
        "base": None
        if order.base is None
        else BaseAmounts.of(
            DocumentTotals.from_money(order.totals),
            order.currency,
            order.base.exchange_rate,
            order.base.base_currency,
            order.base.rate_date,
        ),
        "payment_terms": PaymentTerms(order.payment_terms),
        "customer_po": order.customer_po,
        "invoicing_policy": None
        if order.billing.policy is None
        else InvoicingPolicy(order.billing.policy.value),
        "down_payment_rate": order.billing.down_payment_rate,
        "customer_details": customer_details(order.customer_details),
        "requested_delivery_date": order.requested_delivery_date,
        "shipping_method": order.shipping_method,
        "confirmed_at": order.confirmed_at,
    }


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


def order_fulfilled(
    order: domain.Order, shipment_ref: str, completeness: domain.Completeness
) -> OrderFulfilled:
    return OrderFulfilled(
        order_id=order.order_id,
        order_number=order.order_number,
        shipment_ref=shipment_ref,
        completeness=FulfilmentCompleteness(completeness.value),
        lines=_fulfilled_lines(order),
    )


def order_cancelled(order: domain.Order, reason: str) -> OrderCancelled:
    # Every line, also when nothing shipped (the contract allows an empty tuple then): one shape
    # for consumers, who read what will not ship as ordered - shipped either way.
    return OrderCancelled(
        order_id=order.order_id,
        order_number=order.order_number,
        reason=reason,
        lines=_fulfilled_lines(order),
    )


def order_invoiced(order: domain.Order, document_id: UUID) -> OrderInvoiced:
    return OrderInvoiced(
        order_id=order.order_id,
        order_number=order.order_number,
        billing_status=BillingStatus(order.billing_status.value),
        lines=tuple(
            InvoicedLine(
                line_no=line.line_no,
                quantity_ordered=line.quantity,
                quantity_invoiced=order.invoiced_of(line.line_no),
            )
            for line in order.lines
        ),
        document_id=document_id,
    )


def _fulfilled_lines(order: domain.Order) -> tuple[FulfilledLine, ...]:
    return tuple(
        FulfilledLine(
            line_no=line.line_no,
            quantity_ordered=line.quantity,
            quantity_shipped_total=order.shipped_of(line.line_no),
        )
        for line in order.lines
    )


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


def not_acknowledged(
    order: domain.Order, policy: domain.OrderPolicy, now: datetime
) -> OrderHandoffStale:
    return OrderHandoffStale(
        waiting_since=order.confirmed_at,
        waited_hours=domain.waited_hours(order.confirmed_at, now),
        threshold_hours=policy.ack_alert_hours,
        as_of=now,
        action="the ERP has not booked the order: check the ERP connector and the order in "
        "the ERP, then acknowledge (order.acknowledge), refuse (order.refuse) or cancel it",
        order_id=order.order_id,
        order_number=order.order_number,
    )
