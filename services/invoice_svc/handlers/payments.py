"""invoice_svc's handling of payments: recorded on the invoices they name (or an order's open
invoices), refused, or held while what they name is not known here yet, and settled in the
transaction that makes it known (`domain.decisions.remittances` says why)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.invoices import RecordPayment
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.replies import Policy, log, record
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing

Decision = domain.Billing | domain.PaymentHeld | domain.Unchanged | domain.Refusal


def on_record_payment(
    book: InvoiceBook, msg: Incoming[RecordPayment], policy: Policy, now: datetime
) -> list[Outgoing]:
    remittance = wire.remittance_of(msg, now)
    pid = remittance.payment.payment_id
    if book.held_payment(pid) is not None:
        # The payer's retry under a new event id, as for a payment recorded already.
        return record(book, msg, domain.Unchanged(f"payment {pid} is held already"), now)
    return record(book, msg, pay(book, remittance, policy), now)


def pay(book: InvoiceBook, remittance: domain.Remittance, policy: Policy) -> Decision:
    """Decide a payment against what the book knows now."""
    pid = remittance.payment.payment_id
    recorded_on = frozenset(book.payments_seen.get(pid, ()))
    allocations: list[domain.Allocation] | domain.Refusal
    if remittance.names_an_order:
        found = domain.named_order(
            domain.RECORD_PAYMENT,
            remittance.order_ref,
            [
                book.order_by_number(remittance.order_number),
                book.order_by_erp_number(remittance.erp_order_number),
            ],
        )
        if isinstance(found, domain.Refusal):
            return found
        invoices = book.invoices_of_order(found.order_id) if found is not None else []
        # A payment id recorded already is answered at once (a no-op, or reused), never held.
        waiting = None
        if not recorded_on:
            waiting = domain.order_awaited(
                found,
                invoices,
                order_ref=remittance.order_ref,
                deal_id=remittance.deal_id,
                mode=policy.mode,
            )
        if waiting is not None:
            return domain.PaymentHeld(remittance, waiting)
        allocations = domain.order_payment(
            found,
            invoices,
            order_ref=remittance.order_ref,
            deal_id=remittance.deal_id,
            amount=remittance.payment.amount,
            recorded_on=recorded_on,
        )
        if isinstance(allocations, domain.Refusal):
            return allocations
    else:
        named = [
            (invoice_named_by(book, invoice_id, external_id), external_id, amount)
            for invoice_id, external_id, amount in remittance.allocations
        ]
        if not recorded_on:
            waiting = domain.invoices_awaited(
                ((invoice, external_id) for (invoice, _), external_id, _ in named),
                frozenset(book.held),
            )
            if waiting is not None:
                return domain.PaymentHeld(remittance, waiting)
        allocations = [(invoice, ref, amount) for (invoice, ref), _, amount in named]
    return domain.record_payment(
        allocations,
        remittance.payment,
        recorded_on=recorded_on,
        deal_id=remittance.deal_id,
        policy=policy,
        customer_credit=book.credits,
    )


def settle_held_payments(
    book: InvoiceBook,
    msg: Incoming[Any],
    policy: Policy,
    order: domain.Order,
    claims: Iterable[str],
    now: datetime,
) -> list[Outgoing]:
    """Decide the payments held for `order` (by its number or the ERP's) or for its ERP
    invoices (`claims`: held ones decided just now, posted or refused; and those posted
    before), oldest first. One still waiting (an invoice of the order not posted yet) stays."""
    known = book.order(order.order_id) or order
    external = set(claims)
    external.update(
        i.external_invoice_id
        for i in book.invoices_of_order(known.order_id)
        if i.external_invoice_id is not None
    )
    outgoing: list[Outgoing] = []
    for held in book.held_payments_for(known, external):
        remittance = replace(held, payment=replace(held.payment, recorded_at=now))
        decision = pay(book, remittance, policy)
        if isinstance(decision, domain.PaymentHeld):
            continue
        pid = remittance.payment.payment_id
        book.release_payment(pid)
        log.info("held_payment_settled", payment_id=pid, outcome=type(decision).__name__)
        if isinstance(decision, domain.Refusal):
            # The rejection answers the payment's own command, not the message settling it.
            decision = replace(decision, command_event_id=remittance.command_event_id)
        outgoing.extend(record(book, msg, decision, now))
    return outgoing


def invoice_named_by(
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
