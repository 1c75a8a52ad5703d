"""invoice_svc's time rules, acting on ticks (contracts.ticks) with the tick's time as `now`:
overdue invoices and reminder levels (`domain.follow_up`), ERP invoices held too long for their
order (`domain.stale_claims`)."""

from __future__ import annotations

from datetime import datetime

from contracts.ticks import TimeTicked
from services.invoice_svc import domain, wire
from services.invoice_svc.handlers.replies import REPLIES, Policy
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing


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
