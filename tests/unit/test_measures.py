"""The money an event carries, read off the payload's shape, for the business metrics."""

from __future__ import annotations

from typing import Any

from shared.measures import amount_of
from tests.contract.payload_examples import EXAMPLES


def test_documents_carry_their_grand_total_and_payments_their_amount() -> None:
    examples: dict[str, Any] = dict(EXAMPLES)
    for event_type in ("order.confirmed", "invoice.posted", "invoice.credited", "quote.accepted"):
        payload = examples[event_type]
        assert amount_of(payload) == (payload.currency, float(payload.totals.grand_total))
    paid = examples["invoice.paid"]
    assert amount_of(paid) == (paid.currency, float(paid.amount))


def test_events_without_money_carry_none() -> None:
    examples: dict[str, Any] = dict(EXAMPLES)
    for event_type in ("lead.captured", "lead.disqualified", "quote.reject", "order.cancel"):
        assert amount_of(examples[event_type]) is None, event_type
