"""invoice_svc's handlers of commands from outside (`invoice.commands`, the accounting system's
or a person's): ERP invoices and credit notes, cancellations and credits of invoices, refunds,
customer credit applied, and payments.

A payment is recorded on the invoices it names (or an order's open invoices), refused, or held
while what it names is not known here yet, and settled in the transaction that makes it known
(`domain.decisions.remittances` says why; the events that make it known call
`settle_held_payments`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.invoices import CancelInvoice, RecordPayment, RegisterExternalInvoice
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.replies import Policy, log, numbers_of, record
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing

Decision = domain.Billing | domain.PaymentHeld | domain.Unchanged | domain.Refusal


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


def on_record_payment(
    book: InvoiceBook, msg: Incoming[RecordPayment], policy: Policy, now: datetime
) -> list[Outgoing]:
    remittance = wire.remittance_of(msg, now)
    pid = remittance.payment.payment_id
    if book.held_payment(pid) is not None:
        # The payer's retry under a new event id, as for a payment recorded already.
        return record(book, msg, domain.Unchanged(f"payment {pid} is held already"), now)
    return record(book, msg, pay(book, remittance, policy), now)


def pay(book: InvoiceBook, remittance: domain.Remittance, policy: Policy) -> Decision:
    """Decide a payment against what the book knows now."""
    pid = remittance.payment.payment_id
    recorded_on = frozenset(book.payments_seen.get(pid, ()))
    allocations: list[domain.Allocation] | domain.Refusal
    if remittance.names_an_order:
        found = domain.named_order(
            domain.RECORD_PAYMENT,
            remittance.order_ref,
            [
                book.order_by_number(remittance.order_number),
                book.order_by_erp_number(remittance.erp_order_number),
            ],
        )
        if isinstance(found, domain.Refusal):
            return found
        invoices = book.invoices_of_order(found.order_id) if found is not None else []
        # A payment id recorded already is answered at once (a no-op, or reused), never held.
        waiting = None
        if not recorded_on:
            waiting = domain.order_awaited(
                found,
                invoices,
                order_ref=remittance.order_ref,
                deal_id=remittance.deal_id,
                mode=policy.mode,
            )
        if waiting is not None:
            return domain.PaymentHeld(remittance, waiting)
        allocations = domain.order_payment(
            found,
            invoices,
            order_ref=remittance.order_ref,
            deal_id=remittance.deal_id,
            amount=remittance.payment.amount,
            recorded_on=recorded_on,
        )
        if isinstance(allocations, domain.Refusal):
            return allocations
    else:
        named = [
            (invoice_named_by(book, invoice_id, external_id), external_id, amount)
            for invoice_id, external_id, amount in remittance.allocations
        ]
        if not recorded_on:
            waiting = domain.invoices_awaited(
                ((invoice, external_id) for (invoice, _), external_id, _ in named),
                frozenset(book.held),
            )
            if waiting is not None:
                return domain.PaymentHeld(remittance, waiting)
        allocations = [(invoice, ref, amount) for (invoice, ref), _, amount in named]
    return domain.record_payment(
        allocations,
        remittance.payment,
        recorded_on=recorded_on,
        deal_id=remittance.deal_id,
        policy=policy,
        customer_credit=book.credits,
    )


def settle_held_payments(
    book: InvoiceBook,
    msg: Incoming[Any],
    policy: Policy,
    order: domain.Order,
    claims: Iterable[str],
    now: datetime,
) -> list[Outgoing]:
    """Decide the payments held for `order` (by its number or the ERP's) or for its ERP
    invoices (`claims`: held ones decided just now, posted or refused; and those posted
    before), oldest first. One still waiting (an invoice of the order not posted yet) stays."""
    known = book.order(order.order_id) or order
    external = set(claims)
    external.update(
        i.external_invoice_id
        for i in book.invoices_of_order(known.order_id)
        if i.external_invoice_id is not None
    )
    outgoing: list[Outgoing] = []
    for held in book.held_payments_for(known, external):
        remittance = replace(held, payment=replace(held.payment, recorded_at=now))
        decision = pay(book, remittance, policy)
        if isinstance(decision, domain.PaymentHeld):
            continue
        pid = remittance.payment.payment_id
        book.release_payment(pid)
        log.info("held_payment_settled", payment_id=pid, outcome=type(decision).__name__)
        if isinstance(decision, domain.Refusal):
            # The rejection answers the payment's own command, not the message settling it.
            decision = replace(decision, command_event_id=remittance.command_event_id)
        outgoing.extend(record(book, msg, decision, now))
    return outgoing


def invoice_named_by(
    book: InvoiceBook, invoice_id: UUID | None, external_id: str | None
) -> tuple[domain.Invoice | None, str]:
    """The invoice named by salesflow id or ERP id; both given must agree (two names that point
    at different invoices name none: refused as unknown)."""
    by_id = book.invoice(invoice_id) if invoice_id is not None else None
    by_external = book.invoice_by_external(external_id) if external_id is not None else None
    if invoice_id is not None and external_id is not None:
        return (by_id if by_id is not None and by_id == by_external else None), str(invoice_id)
    if invoice_id is not None:
        return by_id, str(invoice_id)
    return by_external, str(external_id)
