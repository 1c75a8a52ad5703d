"""invoice_svc's message handlers: one per consumed message type, and the keys a batch touches.

Each handler reads the same way: load (from the batch's InvoiceBook) -> decide (pure domain) ->
save (into the book) -> record outgoing events; the loop around them is `shared.stage`.
Deduplication by event id happened before (the runtime's inbox); the natural-key idempotency (an
invoice per order or shipment, per ERP invoice, one effect per payment id, credit ref, refund id)
is decided in the domain, because upstream systems retry under new event ids.

The handlers live by role: `commands` (from people and outside systems), `events` (facts from
other stages, upstream systems and the clock), `replies` (a decision taken into the book and the
events it publishes); this module holds the table and `touches_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from contracts.base import Payload
from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.invoices import CancelInvoice, RecordPayment, RegisterExternalInvoice
from contracts.orders import OrderAcknowledged, OrderCancelled, OrderConfirmed, OrderFulfilled
from contracts.ticks import TimeTicked
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.commands import (
    on_apply_credit,
    on_cancel_invoice,
    on_credit_invoice,
    on_record_payment,
    on_record_refund,
    on_register_external,
    on_register_external_credit,
)
from services.invoice_svc.handlers.events import (
    on_order_acknowledged,
    on_order_cancelled,
    on_order_confirmed,
    on_order_fulfilled,
    on_order_resubmitted,
    on_tick,
)
from services.invoice_svc.handlers.replies import Policy
from services.invoice_svc.store import InvoiceBook, Touches
from shared.messages import Incoming
from shared.stage import Handler

__all__ = ["HANDLERS", "touches_of"]

HANDLERS: dict[str, Handler[InvoiceBook, Policy]] = {
    "clock.ticked": on_tick,
    "order.confirmed": on_order_confirmed,
    "order.fulfilled": on_order_fulfilled,
    "order.cancelled": on_order_cancelled,
    "order.acknowledged": on_order_acknowledged,
    "order.resubmitted": on_order_resubmitted,
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
    order_numbers: set[str] = set()
    erp_numbers: set[str] = set()
    posts = corrects = False
    as_of = _latest_tick(batch)
    for msg in batch:
        payload: Payload = msg.payload
        match payload:
            case OrderConfirmed() | OrderFulfilled() | OrderCancelled():
                orders.add(payload.order_id)
                if isinstance(payload, OrderConfirmed):
                    # ERP invoices held under its number are settled by its confirmation.
                    order_numbers.add(payload.order_number)
                # A confirmation may bill shipments read ahead of it (and deduct a down
                # payment from them, a credit note).
                posts |= not isinstance(payload, OrderCancelled)
                corrects = True
            case OrderAcknowledged():
                orders.add(payload.order_id)
                order_numbers.add(payload.order_number)
                erp_numbers.add(payload.erp_order_number)
            case RegisterExternalInvoice():
                _name_order(orders, order_numbers, erp_numbers, payload)
                external.add(payload.external_invoice_id)
                numbers.add(payload.invoice_number)
            case RecordPayment():
                _name_order(orders, order_numbers, erp_numbers, payload)
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
        order_numbers=frozenset(order_numbers),
        erp_order_numbers=frozenset(erp_numbers),
        due_before=None if as_of is None else as_of - timedelta(days=policy.overdue_grace_days),
        dunning_levels=len(policy.dunning_days),
        held_received_before=None
        if as_of is None or policy.held_alert_hours <= 0
        else _latest_tick_time(batch) - timedelta(hours=policy.held_alert_hours),
        counter_year=now.year if native and posts else None,
        credit_counter_year=now.year if native and corrects else None,
    )


def _latest_tick_time(batch: Sequence[Incoming[Any]]) -> datetime:
    return max(m.payload.at for m in batch if isinstance(m.payload, TimeTicked))


def _latest_tick(batch: Sequence[Incoming[Any]]) -> date | None:
    """The date of the batch's latest tick: the follow-ups due as of then are loaded."""
    days = [m.payload.at.date() for m in batch if isinstance(m.payload, TimeTicked)]
    return max(days, default=None)


def _name_order(
    orders: set[UUID],
    numbers: set[str],
    erp_numbers: set[str],
    payload: RegisterExternalInvoice | RecordPayment,
) -> None:
    if isinstance(payload, RegisterExternalInvoice) and payload.order_id is not None:
        orders.add(payload.order_id)
    if payload.order_number is not None:
        numbers.add(payload.order_number)
    if payload.erp_order_number is not None:
        erp_numbers.add(payload.erp_order_number)


def _name(
    invoices: set[UUID], external: set[str], invoice_id: UUID | None, ext: str | None
) -> None:
    if invoice_id is not None:
        invoices.add(invoice_id)
    if ext is not None:
        external.add(ext)
