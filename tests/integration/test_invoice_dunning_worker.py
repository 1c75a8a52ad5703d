"""invoice_svc's dunning on real Kafka and PostgreSQL: time moved by ticks, each level once
across a restart and a redelivered tick, none after the payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.envelope import decode
from services.invoice_svc.settings import InvoiceSettings
from shared.ticker import publish_tick
from tests.support.infra import Endpoints
from tests.support.invoices import order_confirmed, record_payment
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

OUTCOMES = ("invoice.posted", "invoice.paid", "invoice.overdue", "invoice.dunning")


def _of(records: list[Any], deal: str) -> list[tuple[str, Any]]:
    return [(r.topic, decode(r.value).payload) for r in records if r.key == deal.encode()]


def _count(deal: str, topic: str, n: int) -> Any:
    return lambda rs: sum(1 for t, _ in _of(rs, deal) if t == topic) >= n


async def test_overdue_and_each_level_once_across_a_restart_and_none_after_payment(
    endpoints: Endpoints,
) -> None:
    deal = f"dun-{new_run_id()}"
    settings = InvoiceSettings(dunning_days="7,21")
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "invoice", settings=settings, tick_seconds=0):
            await publish(endpoints.kafka, [record_of("order.confirmed", order_confirmed(deal))])
            records = await reader.collect(_count(deal, "invoice.posted", 1), timeout_s=120)
            (invoice,) = [p for t, p in _of(records, deal) if t == "invoice.posted"]
            # Today's time of day on the due date: a tick's id is derived from its time, and an
            # earlier run's tick of the same time would be a duplicate to every inbox.
            due = datetime.combine(invoice.due_date, datetime.now(UTC).time(), tzinfo=UTC)
            first = due + timedelta(days=8)
            await publish_tick(endpoints.kafka, first, 3600)
            await reader.collect(_count(deal, "invoice.dunning", 1))
        # A new process: the same tick again (another producer's copy) and a later one of the
        # same level find nothing to send.
        async with running_worker(endpoints, "invoice", settings=settings, tick_seconds=0):
            await publish_tick(endpoints.kafka, first, 3600)
            await publish_tick(endpoints.kafka, first + timedelta(days=1), 3600)
            await reader.settle(2.0)
            total = str(invoice.totals.grand_total)
            payment = record_payment(deal, total, invoice_id=invoice.invoice_id)
            await publish(endpoints.kafka, [record_of("invoice.commands", payment)])
            await reader.collect(_count(deal, "invoice.paid", 1))
            await publish_tick(endpoints.kafka, due + timedelta(days=30), 3600)
            records = await reader.settle(2.0)
    finally:
        await reader.stop()

    outcomes = _of(records, deal)
    # One of each, whatever was redelivered (topics are not ordered relative to each other).
    assert sorted(t for t, _ in outcomes) == [
        "invoice.dunning",
        "invoice.overdue",
        "invoice.paid",
        "invoice.posted",
    ]
    (overdue,) = [p for t, p in outcomes if t == "invoice.overdue"]
    (reminder,) = [p for t, p in outcomes if t == "invoice.dunning"]
    assert (overdue.days_overdue, overdue.amount_due) == (8, invoice.totals.grand_total)
    assert (reminder.level, reminder.level_days, reminder.final) == (1, 7, False)
