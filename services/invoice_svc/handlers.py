"""invoice_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's InvoiceBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency (an
invoice per order or shipment, per ERP invoice, one effect per payment id, credit ref, refund id)
is decided in the domain, because upstream systems retry under new event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from contracts.base import Payload
from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.invoices import CancelInvoice, RecordPayment, RegisterExternalInvoice
from contracts.orders import OrderCancelled, OrderConfirmed, OrderFulfilled
from services.invoice_svc import domain, wire
from services.invoice_svc.store import InvoiceBook, Touches
from shared.messages import Incoming, Outgoing
from shared.stage import Handler, Replies

REPLIES = Replies.of("invoice_svc")

log = structlog.stdlib.get_logger("salesflow.invoice")

Policy = domain.InvoicingPolicy


def on_order_confirmed(
    book: InvoiceBook, msg: Incoming[OrderConfirmed], policy: Policy, now: datetime
) -> list[Outgoing]:
    confirmed = msg.payload
    incoming = wire.order_of(confirmed, msg.deal_id)
    ahead = book.take_cancel_ahead(confirmed.order_id)
    if ahead is not None:
        reason, shipped = ahead
        incoming = domain.record_shipment(
            replace(incoming, cancelled=True, cancel_reason=reason), shipped
        )
    known = book.order(confirmed.order_id)
    order = domain.remember_order(known, incoming)
    if known is None:
        book.put_order(order)
    # ERP invoices that raced ahead of their order are settled inside this order's transaction.
    outgoing = _settle_held(book, msg, policy, order, now)
    if policy.mode is domain.InvoicingMode.NATIVE:
        numbers = _numbers(book, policy, now)
        decision = domain.bill_at_confirmation(
            book.order(order.order_id) or order,
            policy=policy,
            numbers=numbers,
            customer_credit=book.credits,
            now=now,
        )
        outgoing.extend(_record(book, msg, decision, now, numbers))
    early = book.take_shipped_ahead(order.order_id)
    if early is not None:
        outgoing.extend(_ship(book, msg, policy, order.order_id, *early, now))
    return outgoing


def on_order_fulfilled(
    book: InvoiceBook, msg: Incoming[OrderFulfilled], policy: Policy, now: datetime
) -> list[Outgoing]:
    event = msg.payload
    shipped = wire.shipped_of(event.lines)
    if book.order(event.order_id) is None:
        # Read before its order.confirmed (another topic): kept, and billed when the order
        # arrives.
        book.ship_ahead(event.order_id, msg.deal_id, event.shipment_ref, shipped, now)
        log.info("order_shipped_ahead_of_confirmation", order_id=str(event.order_id))
        return []
    return _ship(book, msg, policy, event.order_id, event.shipment_ref, shipped, now)


def _ship(
    book: InvoiceBook,
    msg: Incoming[Any],
    policy: Policy,
    order_id: UUID,
    shipment_ref: str,
    shipped: dict[Any, Any],
    now: datetime,
) -> list[Outgoing]:
    known = book.order(order_id)
    if known is None:  # pragma: no cover - callers checked
        return []
    order = domain.record_shipment(known, shipped)
    book.put_order(order)
    if policy.mode is not domain.InvoicingMode.NATIVE:
        return []
    numbers = _numbers(book, policy, now)
    decision = domain.bill_shipment(
        order,
        shipment_ref=shipment_ref,
        down_payment=book.down_payment_of(order),
        policy=policy,
        numbers=numbers,
        customer_credit=book.credits,
        now=now,
    )
    return _record(book, msg, decision, now, numbers)


def on_order_cancelled(
    book: InvoiceBook, msg: Incoming[OrderCancelled], policy: Policy, now: datetime
) -> list[Outgoing]:
    event = msg.payload
    shipped = wire.shipped_of(event.lines)
    order = book.order(event.order_id)
    if order is None:
        # Read before its order.confirmed (another topic): kept, and applied when the order
        # arrives, so that order is billed only for what shipped.
        book.cancel_ahead(event.order_id, msg.deal_id, event.reason, now, shipped)
        log.info("order_cancelled_ahead_of_confirmation", order_id=str(event.order_id))
        return []
    numbers = _numbers(book, policy, now)
    decision = domain.cancel_order(
        order,
        book.invoices_of_order(order.order_id),
        shipped=shipped,
        reason=event.reason,
        mode=policy.mode,
        numbers=numbers,
        customer_credit=book.credits,
        now=now,
    )
    return _record(book, msg, decision, now, numbers)


def on_register_external(
    book: InvoiceBook, msg: Incoming[RegisterExternalInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.register_external(
        wire.claim_of(msg, now),
        mode=policy.mode,
        order=book.order(command.order_id),
        registered=book.invoice_by_external(command.external_invoice_id),
        held=book.held_claim(command.external_invoice_id),
        numbered=book.invoice_by_number(command.invoice_number),
        customer_credit=book.credits,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_record_payment(
    book: InvoiceBook, msg: Incoming[RecordPayment], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    allocations = [
        (*_invoice_named_by(book, invoice_id, external_id), amount)
        for invoice_id, external_id, amount in wire.allocations_of(command)
    ]
    decision = domain.record_payment(
        allocations,
        wire.payment_of(command, now),
        recorded_on=frozenset(book.payments_seen.get(command.payment_id, ())),
        deal_id=msg.deal_id,
        policy=policy,
        customer_credit=book.credits,
    )
    return _record(book, msg, decision, now)


def on_cancel_invoice(
    book: InvoiceBook, msg: Incoming[CancelInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice = book.invoice(command.invoice_id)
    numbers = _numbers(book, policy, now)
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
    return _record(book, msg, decision, now, numbers)


def on_credit_invoice(
    book: InvoiceBook, msg: Incoming[CreditInvoice], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = _invoice_named_by(book, command.invoice_id, command.external_invoice_id)
    numbers = _numbers(book, policy, now)
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
    return _record(book, msg, decision, now, numbers)


def on_register_external_credit(
    book: InvoiceBook, msg: Incoming[RegisterExternalCreditNote], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = _invoice_named_by(book, command.invoice_id, command.external_invoice_id)
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
    return _record(book, msg, decision, now)


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
    return _record(book, msg, decision, now)


def on_apply_credit(
    book: InvoiceBook, msg: Incoming[ApplyCredit], policy: Policy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = _invoice_named_by(book, command.invoice_id, command.external_invoice_id)
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
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler[InvoiceBook, Policy]] = {
    "order.confirmed": on_order_confirmed,
    "order.fulfilled": on_order_fulfilled,
    "order.cancelled": on_order_cancelled,
    "invoice.register_external": on_register_external,
    "invoice.record_payment": on_record_payment,
    "invoice.cancel": on_cancel_invoice,
    "invoice.credit": on_credit_invoice,
    "invoice.register_external_credit": on_register_external_credit,
    "invoice.record_refund": on_record_refund,
    "invoice.apply_credit": on_apply_credit,
}


def touches_of(batch: Sequence[Incoming[Any]], policy: Policy, now: datetime) -> Touches:
    """The keys the batch's messages touch, for one load."""
    orders: set[UUID] = set()
    invoices: set[UUID] = set()
    external: set[str] = set()
    numbers: set[str] = set()
    payments: set[str] = set()
    external_credits: set[str] = set()
    accounts: set[tuple[UUID, str]] = set()
    refunds: set[str] = set()
    applications: set[str] = set()
    posts = corrects = False
    for msg in batch:
        payload: Payload = msg.payload
        match payload:
            case OrderConfirmed() | OrderFulfilled() | OrderCancelled():
                orders.add(payload.order_id)
                # A confirmation may bill shipments read ahead of it (and deduct a down
                # payment from them, a credit note).
                posts |= not isinstance(payload, OrderCancelled)
                corrects = True
            case RegisterExternalInvoice():
                orders.add(payload.order_id)
                external.add(payload.external_invoice_id)
                numbers.add(payload.invoice_number)
            case RecordPayment():
                payments.add(payload.payment_id)
                for invoice_id, external_id, _ in wire.allocations_of(payload):
                    _name(invoices, external, invoice_id, external_id)
            case CancelInvoice():
                invoices.add(payload.invoice_id)
                corrects = True
            case CreditInvoice() | RegisterExternalCreditNote() | ApplyCredit():
                _name(invoices, external, payload.invoice_id, payload.external_invoice_id)
                corrects |= isinstance(payload, CreditInvoice)
                if isinstance(payload, RegisterExternalCreditNote):
                    external_credits.add(payload.external_credit_note_id)
                if isinstance(payload, ApplyCredit):
                    accounts.add((payload.account_id, payload.currency))
                    applications.add(payload.application_id)
            case RecordRefund():
                accounts.add((payload.account_id, payload.currency))
                refunds.add(payload.refund_id)
    # Only batches that may number a native document take (and lock) that year's counter.
    native = policy.mode is domain.InvoicingMode.NATIVE
    return Touches(
        order_ids=frozenset(orders),
        invoice_ids=frozenset(invoices),
        external_ids=frozenset(external),
        invoice_numbers=frozenset(numbers),
        payment_ids=frozenset(payments),
        external_credit_ids=frozenset(external_credits),
        accounts=frozenset(accounts),
        refund_ids=frozenset(refunds),
        application_ids=frozenset(applications),
        counter_year=now.year if native and posts else None,
        credit_counter_year=now.year if native and corrects else None,
    )


def _name(
    invoices: set[UUID], external: set[str], invoice_id: UUID | None, ext: str | None
) -> None:
    if invoice_id is not None:
        invoices.add(invoice_id)
    if ext is not None:
        external.add(ext)


def _numbers(book: InvoiceBook, policy: Policy, now: datetime) -> domain.Numbers:
    return book.numbers(now.year, policy.number_prefix, policy.credit_note_prefix)


def _settle_held(
    book: InvoiceBook, msg: Incoming[Any], policy: Policy, order: domain.Order, now: datetime
) -> list[Outgoing]:
    outgoing: list[Outgoing] = []
    for claim in book.held_for_order(order.order_id):
        book.release(claim.external_invoice_id)
        decision: domain.Billing | domain.Refusal
        if policy.mode is not domain.InvoicingMode.EXTERNAL:
            decision = domain.Refusal(
                domain.REGISTER,
                "wrong_mode",
                "held while billing was external; invoices are now made natively from orders",
                claim.external_invoice_id,
                claim.command_event_id,
            )
        else:
            decision = domain.accept_external(
                claim,
                order=book.order(order.order_id) or order,
                numbered=book.invoice_by_number(claim.invoice_number),
                customer_credit=book.credits,
                now=now,
            )
        outgoing.extend(_record(book, msg, decision, now))
    return outgoing


def _invoice_named_by(
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


def _record(
    book: InvoiceBook,
    msg: Incoming[Any],
    decision: domain.Billing | domain.Held | domain.Unchanged | domain.Refusal,
    now: datetime,
    numbers: domain.Numbers | None = None,
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Unchanged(why):
            log.debug("invoice_unchanged", event_type=msg.event_type, why=why)
            return []
        case domain.Held(claim):
            book.hold(claim)
            log.info("external_invoice_held", external_invoice_id=claim.external_invoice_id)
            return []
        case domain.Billing():
            book.record(decision, numbers)
            return _events(book, msg, decision, now)


def _events(
    book: InvoiceBook, msg: Incoming[Any], billing: domain.Billing, now: datetime
) -> list[Outgoing]:
    def about(invoice: domain.Invoice, payload: Payload) -> Outgoing:
        return REPLIES.event(msg, payload, now, deal_id=invoice.deal_id)

    def invoice(invoice_id: UUID) -> domain.Invoice:
        found = book.invoice(invoice_id)
        if found is None:  # pragma: no cover - a decision only touches loaded invoices
            raise LookupError(f"invoice {invoice_id} of a decision is not in the book")
        return found

    out = []
    for invoice_id in billing.posted:
        posted = invoice(invoice_id)
        order = book.order(posted.order_id)
        if order is None:  # pragma: no cover - an invoice is posted only for a known order
            raise LookupError(f"order {posted.order_id} of a posted invoice is not loaded")
        out.append(about(posted, wire.posted(posted, order)))
    for note in billing.notes:
        credited = invoice(note.invoice_id)
        out.append(about(credited, wire.credited(note, credited, book.order(note.order_id))))
    # An invoice cancelled, or a standard invoice credited in full, is announced cancelled too
    # (what consumers of invoice.cancelled have always heard), with the credit note that
    # reversed it. A down payment used up by deductions is not cancelled: it was consumed.
    reasons = {invoice_id: reason for invoice_id, reason, _ in billing.cancelled}
    announced: set[UUID] = set()
    for note in reversed(billing.notes):
        credited = invoice(note.invoice_id)
        closed = credited.state is domain.InvoiceState.CANCELED and (
            credited.kind is domain.InvoiceKind.STANDARD or credited.invoice_id in reasons
        )
        if closed and credited.invoice_id not in announced:
            announced.add(credited.invoice_id)
            reason = reasons.get(credited.invoice_id, note.reason)
            out.append(about(credited, wire.cancelled(credited, reason, note)))
    for invoice_id, payment in billing.payments:
        out.append(about(invoice(invoice_id), wire.paid(invoice(invoice_id), payment)))
    for invoice_id, ref, amount in billing.applications:
        applied = invoice(invoice_id)
        credit = book.credits.get((applied.account_id, applied.currency))
        if credit is not None:
            out.append(about(applied, wire.credit_applied(applied, ref, amount, credit)))
    out.extend(
        about(invoice(f.invoice_id), wire.refund_due(f, invoice(f.invoice_id)))
        for f in billing.refunds_due
    )
    for refund in billing.refunds:
        credit = book.credits[(refund.account_id, refund.currency)]
        out.append(REPLIES.event(msg, wire.refunded(refund, credit), now))
    return out
