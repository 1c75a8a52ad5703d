"""When money is due, and how late it is: the one rule every consumer of due dates uses.

An invoice is due ON its due date: as of that date it is still current, the day after it is one
day past due. It is *overdue* once it is past due by more than the grace the deployment gives
(`grace_days`, 0 by default). Reminder levels count days past due. invoice_svc's dunning and the
receivables' ageing (`salesflow receivables`) both count with `days_past_due`, so a reminder and
the ageing bucket of the same invoice never disagree about how late it is.

Pure standard library, like `contracts.money`: the services' domains use it.
"""

from __future__ import annotations

from datetime import date

__all__ = ["days_past_due", "is_overdue"]


def days_past_due(due_date: date, as_of: date) -> int:
    """Whole days `as_of` is past `due_date`; 0 on the due date and before it."""
    return max((as_of - due_date).days, 0)


def is_overdue(due_date: date, as_of: date, grace_days: int = 0) -> bool:
    """Past due by more than the grace: the first day an unpaid invoice counts as overdue is
    `due_date + grace_days + 1`."""
    return days_past_due(due_date, as_of) > grace_days
