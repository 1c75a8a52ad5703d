"""Translation between the published language (contracts) and invoice_svc's domain values."""

from __future__ import annotations

from datetime import datetime

from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.invoices import (
    InvoiceCancelled,
    InvoicePaid,
    InvoicePosted,
    InvoiceSource,
    PaymentStatus,
    RecordPayment,
    RegisterExternalInvoice,
)
from contracts.orders import OrderConfirmed
from services.invoice_svc import domain
from shared.messages import Incoming

# LongText's bound: a cancellation reason built from an upstream reason must still fit.
_MAX_REASON = 4000


def line_of(line: DocumentLine) -> domain.Line:
    return domain.Line(
        line_no=line.line_no,
        sku=line.sku,
        description=line.description,
        write_in=line.write_in,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_amount=line.discount_amount,
        tax_rate=line.tax_rate,
        base_amount=line.base_amount,
        net_amount=line.net_amount,
        tax_amount=line.tax_amount,
        total_amount=line.total_amount,
    )


def document_line(line: domain.Line) -> DocumentLine:
    return DocumentLine(
        line_no=line.line_no,
        sku=line.sku,
        description=line.description,
        write_in=line.write_in,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_amount=line.discount_amount,
        tax_rate=line.tax_rate,
        base_amount=line.base_amount,
        net_amount=line.net_amount,
        tax_amount=line.tax_amount,
        total_amount=line.total_amount,
    )


def order_of(confirmed: OrderConfirmed, deal_id: str) -> domain.Order:
    return domain.Order(
        order_id=confirmed.order_id,
        order_number=confirmed.order_number,
        quote_id=confirmed.quote_id,
        deal_id=deal_id,
        account_id=confirmed.account_id,
        account_name=confirmed.account_name,
        currency=confirmed.currency,
        lines=tuple(line_of(line) for line in confirmed.lines),
        totals=confirmed.totals.to_money(confirmed.currency),
        payment_terms=confirmed.payment_terms.value,
        confirmed_at=confirmed.confirmed_at,
    )


def claim_of(msg: Incoming[RegisterExternalInvoice], now: datetime) -> domain.ExternalClaim:
    command = msg.payload
    return domain.ExternalClaim(
        external_invoice_id=command.external_invoice_id,
        invoice_number=command.invoice_number,
        order_id=command.order_id,
        deal_id=msg.deal_id,
        currency=command.currency,
        totals=command.totals.to_money(command.currency),
        issue_date=command.issue_date,
        due_date=command.due_date,
        command_event_id=msg.event_id,
        received_at=now,
    )


def payment_of(command: RecordPayment, now: datetime) -> domain.Payment:
    return domain.Payment(
        payment_id=command.payment_id,
        amount=command.amount,
        currency=command.currency,
        paid_at=command.paid_at,
        method=command.method,
        recorded_at=now,
    )


def posted(invoice: domain.Invoice, order: domain.Order) -> InvoicePosted:
    return InvoicePosted(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        source=InvoiceSource(invoice.source.value),
        external_invoice_id=invoice.external_invoice_id,
        order_id=order.order_id,
        order_number=order.order_number,
        quote_id=order.quote_id,
        account_id=order.account_id,
        account_name=order.account_name,
        currency=invoice.currency,
        lines=tuple(document_line(line) for line in invoice.lines),
        totals=DocumentTotals.from_money(invoice.totals),
        payment_terms=PaymentTerms(invoice.payment_terms),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
    )


def paid(invoice: domain.Invoice, payment: domain.Payment) -> InvoicePaid:
    return InvoicePaid(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        payment_id=payment.payment_id,
        amount=payment.amount,
        currency=payment.currency,
        paid_at=payment.paid_at,
        amount_paid_total=invoice.amount_paid,
        balance_due=invoice.balance_due,
        status=PaymentStatus((invoice.payment_status or domain.PaymentStatus.PARTIAL).value),
    )


def cancelled(invoice: domain.Invoice, reason: str) -> InvoiceCancelled:
    return InvoiceCancelled(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        order_id=invoice.order_id,
        reason=reason[:_MAX_REASON],
    )
