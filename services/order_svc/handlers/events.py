"""order_svc's handlers of events: an accepted quote (quote_svc's or an outside CRM's) placed as
one order; the invoices, credit notes and payments invoice_svc (or an accounting system)
announces for it; the clock's ticks for the time rule (an order the ERP has not acknowledged)."""

from __future__ import annotations

from datetime import datetime

from contracts.billing import InvoiceCredited
from contracts.invoices import InvoicePaid, InvoicePosted
from contracts.quotes import QuoteAccepted
from contracts.ticks import TimeTicked
from services.order_svc import domain, wire
from services.order_svc.handlers.replies import REPLIES, record
from services.order_svc.store import OrderBook
from shared.messages import Incoming, Outgoing


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


def on_invoice_paid(
    book: OrderBook, msg: Incoming[InvoicePaid], policy: domain.OrderPolicy, now: datetime
) -> list[Outgoing]:
    paid = msg.payload
    # No order id on the wire: the deal (the envelope's key) and the invoice id find the order.
    decision = domain.mark_invoice_paid(
        book.of_deal(msg.deal_id), deal_id=msg.deal_id, invoice_id=paid.invoice_id, now=now
    )
    return record(book, msg, decision, now)


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
