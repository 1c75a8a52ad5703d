"""Stale hand-offs invoice_svc can see, decided on a tick with the tick's time as `now`: an ERP
invoice held for an order that has not arrived for longer than the deployment allows. Each held
invoice is alerted once (it keeps `alerted_at`); one released by its order is no longer held."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from services.invoice_svc.domain.model import ExternalClaim, InvoicingPolicy


def stale_claims(
    held: Iterable[ExternalClaim], policy: InvoicingPolicy, now: datetime
) -> list[ExternalClaim]:
    """The held ERP invoices to alert about as of `now`, with `alerted_at` set, oldest first."""
    if policy.held_alert_hours <= 0:
        return []
    limit = timedelta(hours=policy.held_alert_hours)
    due = [c for c in held if c.alerted_at is None and now - c.received_at >= limit]
    due.sort(key=lambda c: (c.received_at, c.external_invoice_id))
    return [replace(c, alerted_at=now) for c in due]


def waited_hours(since: datetime, now: datetime) -> int:
    return max(int((now - since).total_seconds() // 3600), 0)
