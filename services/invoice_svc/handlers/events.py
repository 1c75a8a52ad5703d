"""invoice_svc's handlers of events: order_svc's (an order confirmed, billed by its policy;
shipped, cancelled, acknowledged by the ERP or resubmitted; each may settle ERP invoices and
payments held for the order), and the clock's ticks for the time rules, with the tick's time as
`now` (contracts.ticks): overdue invoices and reminder levels (`domain.follow_up`), ERP invoices
held too long for their order (`domain.stale_claims`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.orders import (
    OrderAcknowledged,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
    OrderResubmitted,
)
from contracts.ticks import TimeTicked
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.commands import settle_held_payments
from services.invoice_svc.handlers.replies import REPLIES, Policy, log, numbers_of, record
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing


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
    # The ERP's number, when its acknowledgement was read before the order (another topic).
    erp_number = book.take_acknowledged_ahead(confirmed.order_id)
    acknowledged = None if erp_number is None else domain.acknowledge(order, erp_number)
    if acknowledged is not None:
        order = acknowledged
    if known is None or acknowledged is not None:
        book.put_order(order)
    # ERP invoices that raced ahead of their order are settled inside this order's transaction.
    outgoing, claims = _settle_claims(book, msg, policy, order, now)
    if policy.mode is domain.InvoicingMode.NATIVE:
        numbers = numbers_of(book, policy, now)
        decision = domain.bill_at_confirmation(
            book.order(order.order_id) or order,
            policy=policy,
            numbers=numbers,
            customer_credit=book.credits,
            now=now,
        )
        outgoing.extend(record(book, msg, decision, now, numbers))
    early = book.take_shipped_ahead(order.order_id)
    if early is not None:
        outgoing.extend(_ship(book, msg, policy, order.order_id, *early, now))
    # Payments that raced ahead, last: they pay what was just posted.
    outgoing.extend(settle_held_payments(book, msg, policy, order, claims, now))
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
    numbers = numbers_of(book, policy, now)
    decision = domain.bill_shipment(
        order,
        shipment_ref=shipment_ref,
        down_payment=book.down_payment_of(order),
        policy=policy,
        numbers=numbers,
        customer_credit=book.credits,
        now=now,
    )
    return record(book, msg, decision, now, numbers)


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
    numbers = numbers_of(book, policy, now)
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
    outgoing = record(book, msg, decision, now, numbers)
    # A payment held for an invoice of this order (external billing) waits no more: a
    # cancelled order gets no new ERP invoice.
    outgoing.extend(settle_held_payments(book, msg, policy, order, (), now))
    return outgoing


def on_order_acknowledged(
    book: InvoiceBook, msg: Incoming[OrderAcknowledged], policy: Policy, now: datetime
) -> list[Outgoing]:
    event = msg.payload
    order = book.order(event.order_id)
    if order is None:
        # Read before its order.confirmed (another topic): kept, and given to the order when it
        # arrives (ERP invoices naming this number are held until then).
        book.acknowledge_ahead(event.order_id, msg.deal_id, event.erp_order_number, now)
        log.info("order_acknowledged_ahead_of_confirmation", order_id=str(event.order_id))
        return []
    acknowledged = domain.acknowledge(order, event.erp_order_number)
    if acknowledged is None:
        return []
    book.put_order(acknowledged)
    # ERP invoices that named the order by the ERP's number before it was known here.
    return settle_held(book, msg, policy, acknowledged, now)


def on_order_resubmitted(
    book: InvoiceBook, msg: Incoming[OrderResubmitted], policy: Policy, now: datetime
) -> list[Outgoing]:
    """A refused order corrected and sent to the ERP again: its invoices from now on go where
    the correction says. Read before the order itself (another topic, a lagging worker), the
    whole document it carries is the order's confirmation."""
    event = msg.payload
    order = book.order(event.order_id)
    if order is None:
        return on_order_confirmed(book, msg, policy, now)
    fixed = domain.corrected(
        order, wire.customer_details_of(event.customer_details), event.customer_po
    )
    if fixed is not None:
        book.put_order(fixed)
    return []


def settle_held(
    book: InvoiceBook, msg: Incoming[Any], policy: Policy, order: domain.Order, now: datetime
) -> list[Outgoing]:
    """Decide what was held for `order` (named by any of its names): ERP invoices, then the
    payments that name it or them."""
    outgoing, claims = _settle_claims(book, msg, policy, order, now)
    outgoing.extend(settle_held_payments(book, msg, policy, order, claims, now))
    return outgoing


def _settle_claims(
    book: InvoiceBook, msg: Incoming[Any], policy: Policy, order: domain.Order, now: datetime
) -> tuple[list[Outgoing], list[str]]:
    """Decide on the ERP invoices held for `order`, oldest first; with their ids."""
    outgoing: list[Outgoing] = []
    claims: list[str] = []
    for claim in book.held_for(order):
        claims.append(claim.external_invoice_id)
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
        outgoing.extend(record(book, msg, decision, now))
    return outgoing, claims


def on_tick(
    book: InvoiceBook, msg: Incoming[TimeTicked], policy: Policy, now: datetime
) -> list[Outgoing]:
    # The tick's time, not the batch's: a moved or late tick decides as of its own time.
    at = msg.payload.at
    events: list[Outgoing] = []
    for invoice_id in sorted(book.invoices):
        found = domain.follow_up(book.invoices[invoice_id], policy, at)
        if found is None:
            continue
        book.put_invoice(found.invoice)
        deal = found.invoice.deal_id
        if found.announce_overdue:
            events.append(REPLIES.event(msg, wire.overdue(found, policy), at, deal_id=deal))
        if found.level is not None:
            events.append(REPLIES.event(msg, wire.dunning(found, policy), at, deal_id=deal))
    for claim in domain.stale_claims(book.held.values(), policy, at):
        book.put_alerted(claim)
        alert = wire.held_too_long(claim, policy, at)
        events.append(REPLIES.event(msg, alert, at, deal_id=claim.deal_id))
    return events
