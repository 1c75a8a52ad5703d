"""order_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's OrderBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency (one
order per quote, one effect per shipment ref, per invoice, per credit note, per payment seen) is
decided in the domain, because upstream systems retry under new event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from contracts.base import Payload
from contracts.billing import InvoiceCredited
from contracts.invoices import InvoicePaid, InvoicePosted
from contracts.orders import (
    AcknowledgeOrder,
    CancelOrder,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
)
from contracts.quotes import QuoteAccepted
from contracts.ticks import TimeTicked
from services.order_svc import domain, wire
from services.order_svc.store import OrderBook, Touches
from shared.messages import Incoming, Outgoing
from shared.stage import Handler, Replies

REPLIES = Replies.of("order_svc")

log = structlog.stdlib.get_logger("salesflow.order")


def on_quote_accepted(
    book: OrderBook, msg: Incoming[QuoteAccepted], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    quote = msg.payload
    decision = domain.confirm_order(
        wire.accepted_quote(quote),
        deal_id=msg.deal_id,
        existing=book.for_quote(quote.quote_id),
        counter=book.counter(now.year),
        numbering=policy.numbering,
        now=now,
    )
    return _record(book, msg, decision, now)


def on_cancel_order(
    book: OrderBook, msg: Incoming[CancelOrder], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.cancel(
        book.get(command.order_id),
        order_id=command.order_id,
        deal_id=msg.deal_id,
        reason=domain.cancellation_reason(command.reason, command.requested_by),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_record_fulfilment(
    book: OrderBook, msg: Incoming[RecordFulfilment], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.record_fulfilment(
        book.get(command.order_id),
        order_id=command.order_id,
        deal_id=msg.deal_id,
        shipment_ref=command.shipment_ref,
        shipped=wire.shipped(command),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_acknowledge_order(
    book: OrderBook, msg: Incoming[AcknowledgeOrder], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.acknowledge(
        book.named(command.order_id, command.order_number),
        order_ref=_ref(command.order_id, command.order_number),
        deal_id=msg.deal_id,
        erp_order_number=command.erp_order_number,
        holder=book.with_erp_number(command.erp_order_number),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_refuse_order(
    book: OrderBook, msg: Incoming[RefuseOrder], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.refuse(
        book.named(command.order_id, command.order_number),
        order_ref=_ref(command.order_id, command.order_number),
        deal_id=msg.deal_id,
        refusal=wire.erp_refusal_of(command),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_resubmit_order(
    book: OrderBook, msg: Incoming[ResubmitOrder], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    command = msg.payload
    decision = domain.resubmit(
        book.get(command.order_id),
        order_id=command.order_id,
        deal_id=msg.deal_id,
        corrections=wire.corrections_of(command),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_invoice_posted(
    book: OrderBook, msg: Incoming[InvoicePosted], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    posted = msg.payload
    decision = domain.record_invoice(
        book.get(posted.order_id),
        order_id=posted.order_id,
        deal_id=msg.deal_id,
        invoice=wire.posted_invoice(posted),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_invoice_credited(
    book: OrderBook, msg: Incoming[InvoiceCredited], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    credited = msg.payload
    decision = domain.record_credit(
        book.get(credited.order_id),
        order_id=credited.order_id,
        deal_id=msg.deal_id,
        credit=wire.credit_note(credited),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_invoice_paid(
    book: OrderBook, msg: Incoming[InvoicePaid], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    paid = msg.payload
    # No order id on the wire: the deal (the envelope's key) and the invoice id find the order.
    decision = domain.mark_invoice_paid(
        book.of_deal(msg.deal_id), deal_id=msg.deal_id, invoice_id=paid.invoice_id, now=now
    )
    return _record(book, msg, decision, now)


def on_tick(
    book: OrderBook, msg: Incoming[TimeTicked], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    # The tick's time is `now` for the rule (contracts.ticks), never the batch's wall clock.
    at = msg.payload.at
    events: list[Outgoing] = []
    for order in domain.unacknowledged(book.orders.values(), policy, at):
        book.put(order)
        alert = wire.not_acknowledged(order, policy, at)
        events.append(REPLIES.event(msg, alert, at, deal_id=order.deal_id))
    return events


HANDLERS: dict[str, Handler[OrderBook, domain.OrderPolicy]] = {
    "clock.ticked": on_tick,
    "quote.accepted": on_quote_accepted,
    "order.cancel": on_cancel_order,
    "order.record_fulfilment": on_record_fulfilment,
    "order.acknowledge": on_acknowledge_order,
    "order.refuse": on_refuse_order,
    "order.resubmit": on_resubmit_order,
    "invoice.posted": on_invoice_posted,
    "invoice.paid": on_invoice_paid,
    "invoice.credited": on_invoice_credited,
}


def touches_of(
    batch: Sequence[Incoming[Any]], policy: domain.OrderPolicy, now: datetime
) -> Touches:
    """The keys the batch's messages touch, for one load."""
    order_ids: set[UUID] = set()
    quote_ids: set[UUID] = set()
    deal_ids: set[str] = set()
    order_numbers: set[str] = set()
    erp_numbers: set[str] = set()
    for msg in batch:
        payload = msg.payload
        if isinstance(payload, QuoteAccepted):
            quote_ids.add(payload.quote_id)
            order_ids.add(domain.order_id_for(payload.quote_id))
        elif isinstance(payload, InvoicePaid):
            deal_ids.add(msg.deal_id)
        elif isinstance(payload, AcknowledgeOrder | RefuseOrder):
            if payload.order_id is not None:
                order_ids.add(payload.order_id)
            if payload.order_number is not None:
                order_numbers.add(payload.order_number)
            if isinstance(payload, AcknowledgeOrder):
                erp_numbers.add(payload.erp_order_number)
        elif isinstance(
            payload,
            CancelOrder | RecordFulfilment | ResubmitOrder | InvoicePosted | InvoiceCredited,
        ):
            order_ids.add(payload.order_id)
    return Touches(
        order_ids=frozenset(order_ids),
        quote_ids=frozenset(quote_ids),
        deal_ids=frozenset(deal_ids),
        order_numbers=frozenset(order_numbers),
        erp_order_numbers=frozenset(erp_numbers),
        # Only batches that may number an order take the year's counter lock.
        counter_year=now.year if quote_ids else None,
        unacknowledged_before=_unacknowledged_before(batch, policy),
    )


def _unacknowledged_before(
    batch: Sequence[Incoming[Any]], policy: domain.OrderPolicy
) -> datetime | None:
    ticks = [m.payload.at for m in batch if isinstance(m.payload, TimeTicked)]
    if not ticks or policy.ack_alert_hours <= 0:
        return None
    return max(ticks) - timedelta(hours=policy.ack_alert_hours)


def _record(
    book: OrderBook, msg: Incoming[Any], decision: domain.Decision, now: datetime
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            log.info(
                "order_command_refused",
                command=decision.command,
                reason=decision.reason_code,
                subject_id=decision.subject_id,
            )
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Ignored(reason, detail):
            log.info("message_ignored", event_type=msg.event_type, reason=reason, detail=detail)
            return []
        case domain.Confirmed(order, counter):
            book.add(order)
            if counter is not None:
                book.put_counter(counter)
            # DEBUG, not INFO: one line per deal is log volume at load, and the published
            # order.confirmed already records the fact.
            log.debug(
                "order_confirmed",
                order_id=str(order.order_id),
                order_number=order.order_number,
                quote_id=str(order.quote.quote_id),
                producer=msg.envelope.producer,
            )
            return [REPLIES.event(msg, wire.order_confirmed(order), now)]
        case domain.Billed(order, document_id, changed, stray_lines):
            book.put(order)
            if stray_lines:
                # Counted nowhere: the sender's numbering disagrees with the order's, which
                # someone reconciling the order's billing should hear of.
                log.warning(
                    "billed_lines_not_on_order",
                    order_id=str(order.order_id),
                    document_id=str(document_id),
                    line_nos=list(stray_lines),
                )
            if not changed:
                return []
            return [REPLIES.event(msg, wire.order_invoiced(order, document_id), now)]
        case domain.InvoiceMarkedPaid(order, invoice):
            book.put(order)
            # Per payment: volume, see above. Paid after a cancellation is no anomaly any more:
            # invoice_svc turns that money into a refund due.
            log.debug(
                "invoice_marked_paid",
                order_id=str(order.order_id),
                invoice_number=invoice.invoice_number,
                order_state=order.state.value,
            )
            return []
        case domain.Fulfilled(order, shipment_ref, completeness):
            book.put(order)
            fulfilled = wire.order_fulfilled(order, shipment_ref, completeness)
            return [REPLIES.event(msg, fulfilled, now)]
        case domain.Cancelled(order, reason):
            book.put(order)
            return [REPLIES.event(msg, wire.order_cancelled(order, reason), now)]
        case domain.Acknowledged() | domain.RefusedByErp() | domain.Resubmitted():
            book.put(decision.order)
            return [REPLIES.event(msg, _erp_answer(decision), now)]


def _erp_answer(
    decision: domain.Acknowledged | domain.RefusedByErp | domain.Resubmitted,
) -> Payload:
    match decision:
        case domain.Acknowledged(order):
            return wire.order_acknowledged(order)
        case domain.RefusedByErp(order, refusal):
            # INFO: an order the ERP refused waits for a person to correct or cancel it.
            log.info(
                "order_refused_by_erp", order_id=str(order.order_id), reason=refusal.reason_code
            )
            return wire.order_refused(order, refusal)
        case domain.Resubmitted(order):
            return wire.order_resubmitted(order)


def _ref(order_id: UUID | None, order_number: str | None) -> str:
    """How a command named its order, for a refusal's subject."""
    return str(order_id) if order_id is not None else str(order_number)
