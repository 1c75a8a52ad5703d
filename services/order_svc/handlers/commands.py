"""order_svc's handlers of commands from outside (`order.commands`): a person's or the
warehouse's (cancel, record a shipment) and the ERP's answers to a submitted order (acknowledge
under its number, refuse, resubmit corrected)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.orders import (
    AcknowledgeOrder,
    CancelOrder,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
)
from services.order_svc import domain, wire
from services.order_svc.handlers.replies import record
from services.order_svc.store import OrderBook
from shared.messages import Incoming, Outgoing


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


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
    return record(book, msg, decision, now)


def _ref(order_id: UUID | None, order_number: str | None) -> str:
    """How a command named its order, for a refusal's subject."""
    return str(order_id) if order_id is not None else str(order_number)
