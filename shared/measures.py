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
    kind = type(payload)
    shape = _SHAPES[kind] if kind in _SHAPES else _SHAPES.setdefault(kind, _money_shape(kind))
    if shape is None:
        return None
    currency = getattr(payload, "currency", None)
    if not isinstance(currency, str):
        return None
    value = None
    if shape.totals:
        totals = payload.totals
        value = getattr(totals, "grand_total", None) if totals is not None else None
    if value is None and shape.amount:
        value = payload.amount
    if not isinstance(value, Decimal):
        return None
    return currency, float(value)


class _Shape:
    """Which money fields a payload class has."""

    __slots__ = ("amount", "totals")

    def __init__(self, *, totals: bool, amount: bool) -> None:
        self.totals = totals
        self.amount = amount


def _money_shape(cls: type) -> _Shape | None:
    """Which money fields a payload class declares, worked out once per class: asking a
    pydantic model for an attribute it lacks raises inside, which costs more per event than
    the rest of the metric."""
    fields = getattr(cls, "__pydantic_fields__", {})
    if "currency" not in fields:
        return None
    shape = _Shape(totals="totals" in fields, amount="amount" in fields)
    return shape if shape.totals or shape.amount else None


_SHAPES: dict[type, _Shape | None] = {}
