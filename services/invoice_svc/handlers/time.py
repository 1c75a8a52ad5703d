"""invoice_svc's time rules, acting on ticks (contracts.ticks) with the tick's time as `now`."""

from __future__ import annotations

from datetime import datetime

from contracts.ticks import TimeTicked
from services.invoice_svc.handlers.replies import Policy
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming, Outgoing


def on_tick(
    book: InvoiceBook, msg: Incoming[TimeTicked], policy: Policy, now: datetime
) -> list[Outgoing]:
    return []
