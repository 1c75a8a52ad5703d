"""order_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's OrderBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency (one
order per quote, one effect per shipment ref, per invoice, per credit note, per payment seen) is
decided in the domain, because upstream systems retry under new event ids.

The handlers live by role: `commands` (from people and outside systems), `events` (facts from
other stages, upstream systems and the clock), `replies` (a decision taken into the book and the
events it publishes); this module holds the table and `touches_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

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
from services.order_svc import domain
from services.order_svc.handlers.commands import (
    on_acknowledge_order,
    on_cancel_order,
    on_record_fulfilment,
    on_refuse_order,
    on_resubmit_order,
)
from services.order_svc.handlers.events import (
    on_invoice_credited,
    on_invoice_paid,
    on_invoice_posted,
    on_quote_accepted,
    on_tick,
)
from services.order_svc.store import OrderBook, Touches
from shared.messages import Incoming
from shared.stage import Handler

__all__ = ["HANDLERS", "touches_of"]

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
