"""The money an event carries, for the business metrics: read off the payload's shape.

A document (order, invoice, credit note, quote) carries `totals.grand_total` in its `currency`;
a payment, a refund or a credit applied carries `amount` in its `currency`. Read by shape
rather than listed by event type, so a new document type is measured without a line here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def amount_of(payload: Any) -> tuple[str, float] | None:
    """(currency, amount) of the payload, or None when it carries no money."""
    currency = getattr(payload, "currency", None)
    if not isinstance(currency, str):
        return None
    totals = getattr(payload, "totals", None)
    value = getattr(totals, "grand_total", None) if totals is not None else None
    if value is None:
        value = getattr(payload, "amount", None)
    if not isinstance(value, Decimal):
        return None
    return currency, float(value)
