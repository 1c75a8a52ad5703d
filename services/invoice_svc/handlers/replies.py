"""How invoice_svc's handlers answer: the decision taken into the book, and the events it
publishes (each about its invoice's deal, so it lands on that deal's partition)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from contracts.base import Payload
from services.invoice_svc import domain, wire
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing
from shared.stage import Replies

REPLIES = Replies.of("invoice_svc")

log = structlog.stdlib.get_logger("salesflow.invoice")

Policy = domain.InvoicingPolicy


def numbers_of(book: InvoiceBook, policy: Policy, now: datetime) -> domain.Numbers:
    return book.numbers(now.year, policy.number_prefix, policy.credit_note_prefix)


def record(
    book: InvoiceBook,
    msg: Incoming[Any],
    decision: domain.Billing | domain.Held | domain.PaymentHeld | domain.Unchanged | domain.Refusal,
    now: datetime,
    numbers: domain.Numbers | None = None,
) -> list[Outgoing]:
    match decision:
        case domain.Refusal():
            return [REPLIES.refusal(msg, decision, now)]
        case domain.Unchanged(why):
            log.debug("invoice_unchanged", event_type=msg.event_type, why=why)
            return []
        case domain.Held(claim):
            book.hold(claim)
            log.info("external_invoice_held", external_invoice_id=claim.external_invoice_id)
            return []
        case domain.PaymentHeld(remittance, waiting_for):
            book.hold_payment(remittance)
            # Nothing is published: the payment is answered when what it names is known.
            # Until then it is listed by `salesflow report` (held payments).
            log.info(
                "payment_held",
                payment_id=remittance.payment.payment_id,
                deal_id=remittance.deal_id,
                waiting_for=waiting_for,
            )
            return []
        case domain.Billing():
            book.record(decision, numbers)
            return _events(book, msg, decision, now)


def _events(
    book: InvoiceBook, msg: Incoming[Any], billing: domain.Billing, now: datetime
) -> list[Outgoing]:
    def about(invoice: domain.Invoice, payload: Payload) -> Outgoing:
        return REPLIES.event(msg, payload, now, deal_id=invoice.deal_id)

    def invoice(invoice_id: UUID) -> domain.Invoice:
        found = book.invoice(invoice_id)
        if found is None:  # pragma: no cover - a decision only touches loaded invoices
            raise LookupError(f"invoice {invoice_id} of a decision is not in the book")
        return found

    out = []
    for invoice_id in billing.posted:
        posted = invoice(invoice_id)
        order = book.order(posted.order_id)
        if order is None:  # pragma: no cover - an invoice is posted only for a known order
            raise LookupError(f"order {posted.order_id} of a posted invoice is not loaded")
        out.append(about(posted, wire.posted(posted, order)))
    for note in billing.notes:
        credited = invoice(note.invoice_id)
        out.append(about(credited, wire.credited(note, credited, book.order(note.order_id))))
    # An invoice cancelled, or a standard invoice credited in full, is announced cancelled too
    # (what consumers of invoice.cancelled have always heard), with the credit note that
    # reversed it. A down payment used up by deductions is not cancelled: it was consumed.
    reasons = {invoice_id: reason for invoice_id, reason, _ in billing.cancelled}
    announced: set[UUID] = set()
    for note in reversed(billing.notes):
        credited = invoice(note.invoice_id)
        closed = credited.state is domain.InvoiceState.CANCELED and (
            credited.kind is domain.InvoiceKind.STANDARD or credited.invoice_id in reasons
        )
        if closed and credited.invoice_id not in announced:
            announced.add(credited.invoice_id)
            reason = reasons.get(credited.invoice_id, note.reason)
            out.append(about(credited, wire.cancelled(credited, reason, note)))
    for invoice_id, payment in billing.payments:
        out.append(about(invoice(invoice_id), wire.paid(invoice(invoice_id), payment)))
    for invoice_id, ref, amount in billing.applications:
        applied = invoice(invoice_id)
        credit = book.credits.get((applied.account_id, applied.currency))
        if credit is not None:
            out.append(about(applied, wire.credit_applied(applied, ref, amount, credit)))
    out.extend(
        about(invoice(f.invoice_id), wire.refund_due(f, invoice(f.invoice_id)))
        for f in billing.refunds_due
    )
    for refund in billing.refunds:
        credit = book.credits[(refund.account_id, refund.currency)]
        out.append(REPLIES.event(msg, wire.refunded(refund, credit), now))
    return out
