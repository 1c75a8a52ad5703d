"""How order_svc's handlers answer: each decision taken into the book, logged where a person
should hear of it, and the events it publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from contracts.base import Payload
from services.order_svc import domain, wire
from services.order_svc.store import OrderBook
from shared.messages import Incoming, Outgoing
from shared.stage import Replies

REPLIES = Replies.of("order_svc")

log = structlog.stdlib.get_logger("salesflow.order")


def record(
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
