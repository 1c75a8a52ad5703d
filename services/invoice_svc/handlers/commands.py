"""invoice_svc's handlers of the accounting system's commands: ERP invoices and credit notes,
cancellations and credits of invoices, refunds, customer credit applied (payments:
`handlers.payments`)."""

from __future__ import annotations

from datetime import datetime

from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.invoices import CancelInvoice, RegisterExternalInvoice
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.payments import invoice_named_by, settle_held_payments
from services.invoice_svc.handlers.replies import Policy, numbers_of, record
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing


def on_register_external(
    book: InvoiceBook, msg: Incoming[RegisterExternalInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    # Named by salesflow's id or number or the ERP's number: an order not found by any of them
    # yet has the ERP invoice held under the names it gave.
    found = domain.named_order(
        domain.REGISTER,
        command.external_invoice_id,
        [
            None if command.order_id is None else book.order(command.order_id),
            book.order_by_number(command.order_number),
            book.order_by_erp_number(command.erp_order_number),
        ],
    )
    if isinstance(found, domain.Refusal) and policy.mode is domain.InvoicingMode.EXTERNAL:
        return record(book, msg, found, now)
    order = None if isinstance(found, domain.Refusal) else found
    decision = domain.register_external(
        wire.claim_of(msg, now),
        mode=policy.mode,
        order=order,
        registered=book.invoice_by_external(command.external_invoice_id),
        held=book.held_claim(command.external_invoice_id),
        numbered=book.invoice_by_number(command.invoice_number),
        customer_credit=book.credits,
        now=now,
    )
    outgoing = record(book, msg, decision, now)
    if isinstance(decision, domain.Billing) and order is not None:
        # A payment for this order read before any invoice of it (held) can be decided now.
        outgoing.extend(settle_held_payments(book, msg, policy, order, (), now))
    return outgoing


def on_cancel_invoice(
    book: InvoiceBook, msg: Incoming[CancelInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice = book.invoice(command.invoice_id)
    numbers = numbers_of(book, policy, now)
    decision = domain.cancel_invoice(
        invoice,
        invoice_ref=str(command.invoice_id),
        deal_id=msg.deal_id,
        reason=command.reason,
        ref=f"cancel:{msg.event_id}",
        mode=policy.mode,
        numbers=numbers,
        customer_credit=book.credits,
        order=book.order(invoice.order_id) if invoice else None,
        now=now,
    )
    return record(book, msg, decision, now, numbers)


def on_credit_invoice(
    book: InvoiceBook, msg: Incoming[CreditInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = invoice_named_by(book, command.invoice_id, command.external_invoice_id)
    numbers = numbers_of(book, policy, now)
    decision = domain.credit_invoice(
        invoice,
        wire.credit_request_of(command),
        invoice_ref=ref,
        deal_id=msg.deal_id,
        existing=book.note_by_ref(invoice.invoice_id, command.credit_ref) if invoice else None,
        mode=policy.mode,
        numbers=numbers,
        customer_credit=book.credits,
        order=book.order(invoice.order_id) if invoice else None,
        now=now,
    )
    return record(book, msg, decision, now, numbers)


def on_register_external_credit(
    book: InvoiceBook, msg: Incoming[RegisterExternalCreditNote], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = invoice_named_by(book, command.invoice_id, command.external_invoice_id)
    decision = domain.register_external_credit(
        invoice,
        wire.external_credit_of(command),
        invoice_ref=ref,
        deal_id=msg.deal_id,
        existing=book.note_by_external(command.external_credit_note_id),
        mode=policy.mode,
        customer_credit=book.credits,
        order=book.order(invoice.order_id) if invoice else None,
        now=now,
    )
    return record(book, msg, decision, now)


def on_record_refund(
    book: InvoiceBook, msg: Incoming[RecordRefund], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.record_refund(
        book.credits.get((command.account_id, command.currency)),
        wire.refund_of(command),
        done=command.refund_id in book.refunds_seen,
        customer_credit=book.credits,
    )
    return record(book, msg, decision, now)


def on_apply_credit(
    book: InvoiceBook, msg: Incoming[ApplyCredit], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = invoice_named_by(book, command.invoice_id, command.external_invoice_id)
    decision = domain.apply_credit(
        invoice,
        book.credits.get((command.account_id, command.currency)),
        application_id=command.application_id,
        amount=command.amount,
        currency=command.currency,
        account_id=command.account_id,
        invoice_ref=ref,
        done=command.application_id in book.applications_seen,
        customer_credit=book.credits,
        now=now,
    )
    if isinstance(decision, domain.Billing) and invoice is not None:
        book.record_application(
            command.application_id,
            command.account_id,
            invoice.invoice_id,
            command.currency,
            command.amount,
            now,
        )
    return record(book, msg, decision, now)
