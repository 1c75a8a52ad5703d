"""order_svc's message handlers: one per consumed message type, and the Stage that runs them.

Each handler reads the same way: load (from the batch's OrderBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events. Deduplication by event id happened before (the
runtime's inbox); the book is written and committed with the outbox by the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.invoices import InvoicePaid, InvoicePosted
from contracts.orders import CancelOrder, RecordFulfilment
from contracts.quotes import QuoteAccepted
from contracts.rejections import CommandRejected
from services.order_svc import domain, wire
from services.order_svc.store import OrderBook, OrderStore
from shared.messages import Incoming, Outgoing, caused_by

PRODUCER = "order_svc"

log = structlog.stdlib.get_logger("salesflow.order")

Handler = Callable[[OrderBook, Incoming, domain.Numbering, datetime], list[Outgoing]]


def on_quote_accepted(
    book: OrderBook, msg: Incoming, numbering: domain.Numbering, now: datetime
) -> list[Outgoing]:
    quote: QuoteAccepted = msg.payload
    # The number is only peeked here; `book.add` takes it when an order is really created, so
    # a refused quote leaves no gap in the year's sequence.
    year = now.year
    sequence = book.next_sequence(year)
    decision = domain.place_order(
        wire.accepted_quote(quote),
        deal_id=msg.deal_id,
        existing=book.for_quote(quote.quote_id) or book.get(domain.order_id_for(quote.quote_id)),
        number=numbering.number(year, sequence),
        now=now,
    )
    if isinstance(decision, domain.Confirmed):
        book.add(decision.order, year=year, sequence=sequence)
        # DEBUG, not INFO: one line per deal is log volume at load, and the published
        # order.confirmed already records the fact.
        log.debug(
            "order_confirmed",
            order_id=str(decision.order.order_id),
            order_number=decision.order.order_number,
            quote_id=str(quote.quote_id),
            producer=msg.envelope.producer,
        )
        return [_event(msg, wire.order_confirmed(decision.order), now)]
    return _record(book, msg, decision, now)


def on_cancel_order(
    book: OrderBook, msg: Incoming, numbering: domain.Numbering, now: datetime
) -> list[Outgoing]:
    command: CancelOrder = msg.payload
    decision = domain.cancel(
        book.get(command.order_id),
        order_id=command.order_id,
        deal_id=msg.deal_id,
        reason=command.reason or f"canceled by {command.requested_by}",
        now=now,
    )
    return _record(book, msg, decision, now)


def on_record_fulfilment(
    book: OrderBook, msg: Incoming, numbering: domain.Numbering, now: datetime
) -> list[Outgoing]:
    command: RecordFulfilment = msg.payload
    decision = domain.record_fulfilment(
        book.get(command.order_id),
        order_id=command.order_id,
        deal_id=msg.deal_id,
        shipment_ref=command.shipment_ref,
        shipped=[(line.line_no, line.quantity_shipped) for line in command.lines],
        now=now,
    )
    return _record(book, msg, decision, now)


def on_invoice_posted(
    book: OrderBook, msg: Incoming, numbering: domain.Numbering, now: datetime
) -> list[Outgoing]:
    posted: InvoicePosted = msg.payload
    decision = domain.link_invoice(
        book.get(posted.order_id),
        order_id=posted.order_id,
        deal_id=msg.deal_id,
        invoice=domain.InvoiceRef(posted.invoice_id, posted.invoice_number),
        now=now,
    )
    return _record(book, msg, decision, now)


def on_invoice_paid(
    book: OrderBook, msg: Incoming, numbering: domain.Numbering, now: datetime
) -> list[Outgoing]:
    paid: InvoicePaid = msg.payload
    # No order id on the wire: the deal (the envelope's key) and the invoice id find the order.
    decision = domain.mark_invoice_paid(
        book.of_deal(msg.deal_id), deal_id=msg.deal_id, invoice_id=paid.invoice_id, now=now
    )
    return _record(book, msg, decision, now)


HANDLERS: dict[str, Handler] = {
    "quote.accepted": on_quote_accepted,
    "order.cancel": on_cancel_order,
    "order.record_fulfilment": on_record_fulfilment,
    "invoice.posted": on_invoice_posted,
    "invoice.paid": on_invoice_paid,
}


@dataclass(frozen=True)
class OrderStage:
    """The order worker's part of every batch (implements shared.consumer.Stage)."""

    store: OrderStore
    numbering: domain.Numbering

    async def apply(
        self, conn: AsyncConnection, batch: Sequence[Incoming], now: datetime
    ) -> list[Outgoing]:
        order_ids: set[UUID] = set()
        quote_ids: set[UUID] = set()
        deal_ids: set[str] = set()
        for msg in batch:
            payload = msg.payload
            if isinstance(payload, QuoteAccepted):
                quote_ids.add(payload.quote_id)
                order_ids.add(domain.order_id_for(payload.quote_id))
            elif isinstance(payload, InvoicePaid):
                deal_ids.add(msg.deal_id)
            else:
                order_ids.add(payload.order_id)
        book = await self.store.load(
            conn,
            order_ids=order_ids,
            quote_ids=quote_ids,
            counter_years=[now.year] if quote_ids else [],
            deal_ids=deal_ids,
        )
        outgoing: list[Outgoing] = []
        for msg in batch:
            outgoing.extend(HANDLERS[msg.event_type](book, msg, self.numbering, now))
        await self.store.save(conn, book)
        return outgoing


# Confirmed is not here: on_quote_accepted records it itself, because it also takes the number.
Recordable = (
    domain.Fulfilled
    | domain.Cancelled
    | domain.InvoiceLinked
    | domain.InvoiceMarkedPaid
    | domain.Ignored
    | domain.Refusal
)


def _record(book: OrderBook, msg: Incoming, decision: Recordable, now: datetime) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            log.info(
                "order_command_refused",
                command=decision.command,
                reason=decision.reason_code,
                subject_id=decision.subject_id,
            )
            return [_refusal(msg, decision, now)]
        case domain.Ignored(reason, detail):
            log.info("invoice_ignored", event_type=msg.event_type, reason=reason, detail=detail)
            return []
        case domain.InvoiceLinked(order):
            book.put(order)
            return []
        case domain.InvoiceMarkedPaid(order, invoice):
            book.put(order)
            ids = {"order_id": str(order.order_id), "invoice_number": invoice.invoice_number}
            if order.state is domain.OrderState.CANCELED:
                # Paid after the cancel went through (the race in domain.cancel): the money is
                # reconciled outside salesflow, so someone should hear of it.
                log.warning("paid_invoice_of_cancelled_order", **ids)
            else:
                log.debug("invoice_marked_paid", **ids)  # per payment: volume, see above
            return []
        case domain.Fulfilled(order, shipment_ref, completeness):
            book.put(order)
            return [_event(msg, wire.order_fulfilled(order, shipment_ref, completeness), now)]
        case domain.Cancelled(order, reason):
            book.put(order)
            return [_event(msg, wire.order_cancelled(order, reason), now)]


def _event(msg: Incoming, payload: object, now: datetime) -> Outgoing:
    return caused_by(msg, payload, producer=PRODUCER, now=now)


def _refusal(msg: Incoming, refusal: domain.Refusal, now: datetime) -> Outgoing:
    payload = CommandRejected(
        command_event_id=msg.event_id,
        command_type=msg.event_type,
        reason_code=refusal.reason_code,
        detail=refusal.detail,
        subject_id=refusal.subject_id,
    )
    return caused_by(msg, payload, producer=PRODUCER, now=now, event_type="order.rejected")
