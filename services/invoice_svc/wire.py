"""Translation between the published language (contracts) and invoice_svc's domain values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import money
from contracts.alerts import ErpInvoiceHandoffStale
from contracts.billing import (
    CreditApplied,
    CreditInvoice,
    CreditLine,
    InvoiceCredited,
    RecordRefund,
    RefundCause,
    RefundDue,
    RefundRecorded,
    RegisterExternalCreditNote,
)
from contracts.documents import BaseAmounts, DocumentLine, DocumentTotals, PaymentTerms
from contracts.dunning import InvoiceDunning, InvoiceOverdue
from contracts.invoices import (
    DownPaymentDeduction,
    InvoiceCancelled,
    InvoiceKind,
    InvoicePaid,
    InvoicePosted,
    InvoiceSource,
    PaymentStatus,
    RecordPayment,
    RegisterExternalInvoice,
)
from contracts.orders import FulfilledLine, OrderConfirmed
from contracts.parties import Address, CustomerDetails
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
        billing=domain.BillingPolicy(confirmed.invoicing_policy.value)
        if confirmed.invoicing_policy is not None
        else None,
        down_payment_rate=confirmed.down_payment_rate,
        customer_details=customer_details_of(confirmed.customer_details),
        customer_po=confirmed.customer_po,
        base_currency=confirmed.base.base_currency if confirmed.base else None,
        exchange_rate=confirmed.base.exchange_rate if confirmed.base else None,
        rate_date=confirmed.base.rate_date if confirmed.base else None,
    )


def customer_details_of(details: CustomerDetails | None) -> domain.CustomerDetails | None:
    if details is None:
        return None
    return domain.CustomerDetails(
        account_id=details.account_id,
        sold_to=details.sold_to,
        bill_to=_address_of(details.bill_to),
        ship_to=_address_of(details.ship_to),
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
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


def shipped_of(lines: tuple[FulfilledLine, ...]) -> dict[int, Decimal]:
    """Shipped totals per order line."""
    return {line.line_no: line.quantity_shipped_total for line in lines}


def claim_of(msg: Incoming[RegisterExternalInvoice], now: datetime) -> domain.ExternalClaim:
    command = msg.payload
    return domain.ExternalClaim(
        external_invoice_id=command.external_invoice_id,
        invoice_number=command.invoice_number,
        order_id=command.order_id,
        order_number=command.order_number,
        erp_order_number=command.erp_order_number,
        deal_id=msg.deal_id,
        currency=command.currency,
        totals=command.totals.to_money(command.currency),
        issue_date=command.issue_date,
        due_date=command.due_date,
        command_event_id=msg.event_id,
        received_at=now,
        lines=None
        if command.lines is None
        else tuple((x.line_no, x.quantity, x.net_amount, x.tax_amount) for x in command.lines),
    )


def allocations_of(command: RecordPayment) -> list[tuple[UUID | None, str | None, Decimal]]:
    """(invoice id, ERP invoice id, amount) per invoice the payment settles."""
    if command.allocations:
        return [(a.invoice_id, a.external_invoice_id, a.amount) for a in command.allocations]
    return [(command.invoice_id, command.external_invoice_id, command.amount)]


def remittance_of(msg: Incoming[RecordPayment], now: datetime) -> domain.Remittance:
    """The payment and what it names (an order, or its invoices), as it may be held."""
    command = msg.payload
    return domain.Remittance(
        payment=payment_of(command, now),
        deal_id=msg.deal_id,
        command_event_id=msg.event_id,
        received_at=now,
        order_number=command.order_number,
        erp_order_number=command.erp_order_number,
        allocations=()
        if command.order_number is not None or command.erp_order_number is not None
        else tuple(allocations_of(command)),
    )


def credit_request_of(command: CreditInvoice) -> domain.CreditRequest:
    return domain.CreditRequest(
        ref=command.credit_ref,
        reason=command.reason,
        lines=tuple((x.line_no, x.quantity) for x in command.lines),
        amount=command.amount,
    )


def external_credit_of(command: RegisterExternalCreditNote) -> domain.ExternalCredit:
    return domain.ExternalCredit(
        external_credit_note_id=command.external_credit_note_id,
        credit_note_number=command.credit_note_number,
        currency=command.currency,
        lines=tuple((x.line_no, x.quantity) for x in command.lines),
        totals=command.totals.to_money(command.currency),
        issue_date=command.issue_date,
        reason=command.reason,
    )


def refund_of(command: RecordRefund) -> domain.Refund:
    return domain.Refund(
        refund_id=command.refund_id,
        account_id=command.account_id,
        currency=command.currency,
        amount=command.amount,
        refunded_at=command.refunded_at,
        method=command.method,
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
        customer_details=customer_details(order.customer_details),
        customer_po=order.customer_po,
        kind=InvoiceKind(invoice.kind.value),
        deductions=tuple(
            DownPaymentDeduction(
                down_payment_invoice_id=dp_id,
                down_payment_invoice_number=dp_number,
                tax_rate=rate,
                net_amount=net,
                tax_amount=tax,
                total_amount=net + tax,
            )
            for dp_id, dp_number, rate, net, tax in invoice.deductions
        ),
        base=base_amounts(invoice.totals, order),
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
        status=PaymentStatus.COMPLETE if invoice.balance_due <= 0 else PaymentStatus.PARTIAL,
    )


def cancelled(invoice: domain.Invoice, reason: str, note: domain.CreditNote) -> InvoiceCancelled:
    return InvoiceCancelled(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        order_id=invoice.order_id,
        reason=reason[:_MAX_REASON],
        credit_note_id=note.credit_note_id,
        credit_note_number=note.credit_note_number,
    )


def credited(
    note: domain.CreditNote, invoice: domain.Invoice, order: domain.Order | None
) -> InvoiceCredited:
    return InvoiceCredited(
        credit_note_id=note.credit_note_id,
        credit_note_number=note.credit_note_number,
        source=InvoiceSource(note.source.value),
        external_credit_note_id=note.external_credit_note_id,
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        order_id=invoice.order_id,
        order_number=order.order_number if order is not None else invoice.invoice_number,
        account_id=invoice.account_id,
        account_name=invoice.account_name,
        currency=note.currency,
        lines=tuple(document_line(line) for line in note.lines),
        totals=DocumentTotals.from_money(note.totals),
        reason=note.reason[:_MAX_REASON],
        issue_date=note.issue_date,
        order_lines=tuple(CreditLine(line_no=n, quantity=q) for n, q in note.order_lines),
        invoice_balance_due=invoice.balance_due,
        base=base_amounts(note.totals, order),
    )


def base_amounts(totals: money.DocumentTotals, order: domain.Order | None) -> BaseAmounts | None:
    """A document's totals in the base currency at its order's rate (None without one)."""
    if order is None or order.exchange_rate is None or order.base_currency is None:
        return None
    assert order.rate_date is not None
    return BaseAmounts.of(
        DocumentTotals.from_money(totals),
        totals.currency,
        order.exchange_rate,
        order.base_currency,
        order.rate_date,
    )


def refund_due(fact: domain.RefundDueFact, invoice: domain.Invoice) -> RefundDue:
    return RefundDue(
        account_id=fact.credit.account_id,
        account_name=fact.credit.account_name,
        currency=fact.credit.currency,
        amount=fact.amount,
        credit_balance=fact.credit.balance,
        cause=RefundCause(fact.cause),
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        payment_id=fact.payment_id,
        credit_note_id=fact.credit_note_id,
    )


def refunded(refund: domain.Refund, credit: domain.AccountCredit) -> RefundRecorded:
    return RefundRecorded(
        refund_id=refund.refund_id,
        account_id=refund.account_id,
        currency=refund.currency,
        amount=refund.amount,
        refunded_at=refund.refunded_at,
        credit_balance=credit.balance,
    )


def credit_applied(
    invoice: domain.Invoice, application_id: str, amount: Decimal, credit: domain.AccountCredit
) -> CreditApplied:
    return CreditApplied(
        application_id=application_id,
        account_id=invoice.account_id,
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.invoice_number,
        currency=invoice.currency,
        amount=amount,
        invoice_balance_due=invoice.balance_due,
        credit_balance=credit.balance,
    )


def customer_details(details: domain.CustomerDetails | None) -> CustomerDetails | None:
    if details is None:
        return None
    return CustomerDetails(
        account_id=details.account_id,
        sold_to=details.sold_to,
        bill_to=_address(details.bill_to),
        ship_to=_address(details.ship_to),
        tax_id=details.tax_id,
        erp_customer_number=details.erp_customer_number,
    )


def _address(value: domain.Address | None) -> Address | None:
    if value is None:
        return None
    return Address(
        lines=value.lines,
        city=value.city,
        postal_code=value.postal_code,
        region=value.region,
        country=value.country,
    )


def overdue(found: domain.FollowUp, policy: domain.InvoicingPolicy) -> InvoiceOverdue:
    return InvoiceOverdue(
        **_overdue_fields(found),
        grace_days=policy.overdue_grace_days,
    )


def dunning(found: domain.FollowUp, policy: domain.InvoicingPolicy) -> InvoiceDunning:
    assert found.level is not None
    return InvoiceDunning(
        **_overdue_fields(found),
        level=found.level,
        level_days=found.level_days(policy),
        final=found.final(policy),
    )


def _overdue_fields(found: domain.FollowUp) -> dict[str, Any]:
    invoice = found.invoice
    return {
        "invoice_id": invoice.invoice_id,
        "invoice_number": invoice.invoice_number,
        "order_id": invoice.order_id,
        "account_id": invoice.account_id,
        "account_name": invoice.account_name or "-",
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "amount_due": invoice.balance_due,
        "days_overdue": found.days_overdue,
        "as_of": found.as_of,
    }


def held_too_long(
    claim: domain.ExternalClaim, policy: domain.InvoicingPolicy, now: datetime
) -> ErpInvoiceHandoffStale:
    return ErpInvoiceHandoffStale(
        waiting_since=claim.received_at,
        waited_hours=domain.waited_hours(claim.received_at, now),
        threshold_hours=policy.held_alert_hours,
        as_of=now,
        action="the order it names has not reached salesflow: check the order named on the ERP "
        "invoice (a wrong number is corrected by the ERP re-sending the invoice), or why the "
        "order was never confirmed",
        external_invoice_id=claim.external_invoice_id,
        invoice_number=claim.invoice_number,
        order_id=claim.order_id,
        order_number=claim.order_number,
        erp_order_number=claim.erp_order_number,
    )
