"""invoice_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's InvoiceBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency (one
invoice per order, per ERP invoice, one effect per payment id) is decided in the domain, because
upstream systems retry under new event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from contracts.invoices import CancelInvoice, RecordPayment, RegisterExternalInvoice
from contracts.orders import OrderCancelled, OrderConfirmed
from services.invoice_svc import domain, wire
from services.invoice_svc.store import InvoiceBook, Touches
from shared.messages import Incoming, Outgoing
from shared.stage import Handler, Replies

REPLIES = Replies.of("invoice_svc")

log = structlog.stdlib.get_logger("salesflow.invoice")


def on_order_confirmed(
    book: InvoiceBook, msg: Incoming[OrderConfirmed], policy: domain.InvoicingPolicy, now: datetime
) -> list[Outgoing]:
    confirmed = msg.payload
    incoming = wire.order_of(confirmed, msg.deal_id)
    cancelled_first = book.take_cancel_ahead(confirmed.order_id)
    if cancelled_first is not None:
        incoming = replace(incoming, cancelled=True, cancel_reason=cancelled_first)
    known = book.order(confirmed.order_id)
    order = domain.remember_order(known, incoming)
    if known is None:
        book.put_order(order)
    # ERP invoices that raced ahead of their order are settled inside this order's transaction.
    outgoing = _settle_held(book, msg, policy, order, now)
    if policy.mode is domain.InvoicingMode.NATIVE:
        decision = domain.invoice_natively(
            order,
            existing=book.invoice_of_order(order.order_id),
            counter=book.counter(now.year),
            prefix=policy.number_prefix,
            now=now,
        )
        outgoing.extend(_record(book, msg, decision, now))
    return outgoing


def on_order_cancelled(
    book: InvoiceBook, msg: Incoming[OrderCancelled], policy: domain.InvoicingPolicy, now: datetime
) -> list[Outgoing]:
    event = msg.payload
    if book.order(event.order_id) is None:
        # Read before its order.confirmed (another topic): kept, and applied when the order
        # arrives, so that order gets no invoice.
        book.cancel_ahead(event.order_id, msg.deal_id, event.reason, now)
        log.info("order_cancelled_ahead_of_confirmation", order_id=str(event.order_id))
        return []
    decision = domain.cancel_order(
        book.order(event.order_id),
        book.invoice_of_order(event.order_id),
        reason=event.reason,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_register_external(
    book: InvoiceBook,
    msg: Incoming[RegisterExternalInvoice],
    policy: domain.InvoicingPolicy,
    now: datetime,
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.register_external(
        wire.claim_of(msg, now),
        mode=policy.mode,
        order=book.order(command.order_id),
        registered=book.invoice_by_external(command.external_invoice_id),
        held=book.held_claim(command.external_invoice_id),
        order_invoice=book.invoice_of_order(command.order_id),
        numbered=book.invoice_by_number(command.invoice_number),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_record_payment(
    book: InvoiceBook, msg: Incoming[RecordPayment], policy: domain.InvoicingPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    invoice, ref = _invoice_named_by(book, command)
    decision = domain.record_payment(
        invoice,
        payment=wire.payment_of(command, now),
        already_recorded=book.payment_recorded(command.payment_id),
        invoice_ref=ref,
        deal_id=msg.deal_id,
    )
    return _record(book, msg, decision, now)


def on_cancel_invoice(
    book: InvoiceBook, msg: Incoming[CancelInvoice], policy: domain.InvoicingPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.cancel_invoice(
        book.invoice(command.invoice_id),
        invoice_ref=str(command.invoice_id),
        deal_id=msg.deal_id,
        reason=command.reason,
        now=now,
    )
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler[InvoiceBook, domain.InvoicingPolicy]] = {
    "order.confirmed": on_order_confirmed,
    "order.cancelled": on_order_cancelled,
    "invoice.register_external": on_register_external,
    "invoice.record_payment": on_record_payment,
    "invoice.cancel": on_cancel_invoice,
}


def touches_of(
    batch: Sequence[Incoming[Any]], policy: domain.InvoicingPolicy, now: datetime
) -> Touches:
    """The keys the batch's messages touch, for one load."""
    order_ids: set[UUID] = set()
    invoice_ids: set[UUID] = set()
    external_ids: set[str] = set()
    numbers: set[str] = set()
    payment_ids: set[str] = set()
    posts_natively = False
    for msg in batch:
        payload = msg.payload
        if isinstance(payload, OrderConfirmed | OrderCancelled):
            order_ids.add(payload.order_id)
            posts_natively |= isinstance(payload, OrderConfirmed)
        elif isinstance(payload, RegisterExternalInvoice):
            order_ids.add(payload.order_id)
            external_ids.add(payload.external_invoice_id)
            numbers.add(payload.invoice_number)
        elif isinstance(payload, RecordPayment):
            payment_ids.add(payload.payment_id)
            if payload.invoice_id is not None:
                invoice_ids.add(payload.invoice_id)
            if payload.external_invoice_id is not None:
                external_ids.add(payload.external_invoice_id)
        elif isinstance(payload, CancelInvoice):
            invoice_ids.add(payload.invoice_id)
    native = policy.mode is domain.InvoicingMode.NATIVE
    return Touches(
        order_ids=frozenset(order_ids),
        invoice_ids=frozenset(invoice_ids),
        external_ids=frozenset(external_ids),
        invoice_numbers=frozenset(numbers),
        payment_ids=frozenset(payment_ids),
        # Only batches that may post a native invoice take the year's counter lock.
        counter_year=now.year if native and posts_natively else None,
    )


def _settle_held(
    book: InvoiceBook,
    msg: Incoming[Any],
    policy: domain.InvoicingPolicy,
    order: domain.Order,
    now: datetime,
) -> list[Outgoing]:
    outgoing: list[Outgoing] = []
    for claim in book.held_for_order(order.order_id):
        book.release(claim.external_invoice_id)
        decision: domain.Posted | domain.Refusal
        if policy.mode is not domain.InvoicingMode.EXTERNAL:
            # Held while the deployment billed externally; it now bills natively.
            decision = domain.Refusal(
                domain.REGISTER,
                "wrong_mode",
                "invoices are made natively from orders",
                claim.external_invoice_id,
                claim.command_event_id,
            )
        else:
            decision = domain.accept_external(
                claim,
                order=order,
                order_invoice=book.invoice_of_order(order.order_id),
                numbered=book.invoice_by_number(claim.invoice_number),
                now=now,
            )
        outgoing.extend(_record(book, msg, decision, now))
    return outgoing


def _invoice_named_by(
    book: InvoiceBook, command: RecordPayment
) -> tuple[domain.Invoice | None, str]:
    """The invoice a payment names by salesflow id or ERP id; both given must agree."""
    by_id = book.invoice(command.invoice_id) if command.invoice_id is not None else None
    external = command.external_invoice_id
    by_external = book.invoice_by_external(external) if external is not None else None
    if command.invoice_id is not None and external is not None:
        # Two names that point at different invoices name none: refused as unknown.
        agreed = by_id if by_id is not None and by_id == by_external else None
        return agreed, str(command.invoice_id)
    if command.invoice_id is not None:
        return by_id, str(command.invoice_id)
    return by_external, str(external)


def _record(
    book: InvoiceBook,
    msg: Incoming[Any],
    decision: domain.Posted
    | domain.Held
    | domain.Paid
    | domain.Cancelled
    | domain.OrderCancellation
    | domain.Unchanged
    | domain.Refusal,
    now: datetime,
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Unchanged(why):
            log.debug("invoice_unchanged", event_type=msg.event_type, why=why)
            return []
        case domain.Held(claim):
            book.hold(claim)
            log.info(
                "external_invoice_held",
                external_invoice_id=claim.external_invoice_id,
                order_id=str(claim.order_id),
            )
            return []
        case domain.Posted(invoice, counter, _claim):
            book.put_invoice(invoice, new=True)
            if counter is not None:
                book.put_counter(counter)
            order = book.order(invoice.order_id)
            if order is None:  # pragma: no cover - the domain posts only for a known order
                raise LookupError(f"order {invoice.order_id} of a posted invoice is not loaded")
            return [REPLIES.event(msg, wire.posted(invoice, order), now)]
        case domain.Paid(invoice, payment):
            book.put_invoice(invoice)
            book.add_payment(invoice.invoice_id, payment)
            return [REPLIES.event(msg, wire.paid(invoice, payment), now)]
        case domain.Cancelled(invoice, reason):
            book.put_invoice(invoice)
            return [REPLIES.event(msg, wire.cancelled(invoice, reason), now)]
        case domain.OrderCancellation(order, voided, kept_paid):
            book.put_order(order)
            if kept_paid is not None:
                # Money was received against it: reversing that is a credit note in accounting.
                log.warning(
                    "paid_invoice_of_cancelled_order_kept",
                    order_id=str(order.order_id),
                    invoice_id=str(kept_paid.invoice_id),
                    amount_paid=str(kept_paid.amount_paid),
                )
            return [] if voided is None else _record(book, msg, voided, now)
