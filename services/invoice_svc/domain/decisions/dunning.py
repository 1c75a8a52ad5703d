"""Overdue invoices and reminder levels, decided on a tick with the tick's time as `now`.

An invoice that still asks for money (Active, or Paid partially; not credited in full) is overdue
once past its due date by more than the grace (`contracts.due`), announced once. Reminder level
n is due at `dunning_days[n - 1]` days past due; the invoice keeps the highest level sent, so a
level is sent at most once however often ticks and batches are redelivered, and a tick that finds
several levels reached at once (the workers were down, or time was moved) sends only the highest:
a customer gets one letter, the one that matches how late they are. Paid or credited in full, an
invoice asks for nothing and hears nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from contracts.due import days_past_due, is_overdue
from services.invoice_svc.domain.model import (
    ZERO,
    Invoice,
    InvoiceState,
    InvoicingPolicy,
)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What a tick found about one invoice: announce it overdue, send a reminder level, or both."""

    invoice: Invoice  # with `overdue_on` and `dunning_level` as they are now
    announce_overdue: bool
    level: int | None
    days_overdue: int
    as_of: date

    def level_days(self, policy: InvoicingPolicy) -> int:
        assert self.level is not None
        return policy.dunning_days[self.level - 1]

    def final(self, policy: InvoicingPolicy) -> bool:
        return self.level == len(policy.dunning_days)


def asks_for_money(invoice: Invoice) -> bool:
    return invoice.state is not InvoiceState.CANCELED and invoice.balance_due > ZERO


def follow_up(invoice: Invoice, policy: InvoicingPolicy, now: datetime) -> FollowUp | None:
    """What is due about `invoice` as of `now`, or None when nothing (more) is."""
    as_of = now.date()
    if not asks_for_money(invoice) or not is_overdue(
        invoice.due_date, as_of, policy.overdue_grace_days
    ):
        return None
    days = days_past_due(invoice.due_date, as_of)
    reached = sum(1 for offset in policy.dunning_days if days >= offset)
    level = reached if reached > invoice.dunning_level else None
    announce = invoice.overdue_on is None
    if not announce and level is None:
        return None
    updated = replace(
        invoice,
        overdue_on=invoice.overdue_on or as_of,
        dunning_level=level or invoice.dunning_level,
        updated_at=now,
    )
    return FollowUp(updated, announce, level, days, as_of)
