"""invoice_svc on real Kafka and PostgreSQL, in this process, in both modes.

Both tests run the worker under the one group id `invoice_svc`; each stops its worker before
the next starts. Other engineers' order_svc tests may publish order.confirmed at the same time, so
results are filtered by this run's deal ids and gap-freeness is checked over the whole table.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts.envelope import decode
from services.invoice_svc.domain import InvoicingMode
from services.invoice_svc.settings import InvoiceSettings
from tests.support.infra import Endpoints
from tests.support.invoices import (
    cancel_invoice,
    order_cancelled,
    order_confirmed,
    priced_lines,
    record_payment,
    register_external,
    totals_of,
)
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

OUTCOMES = (
    "invoice.posted",
    "invoice.paid",
    "invoice.cancelled",
    "invoice.rejected",
    "invoice.credited",
    "refund.due",
)
_NUMBER = re.compile(r"^.+-(\d{4})-(\d{6,})$")
# The worker may first drain what other runs left on order.confirmed.
WAIT_S = 120.0


@pytest.fixture
async def db(endpoints: Endpoints) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(endpoints.database_url)
    yield engine
    await engine.dispose()


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql), params))


async def _until_row(
    engine: AsyncEngine, sql: str, timeout_s: float = WAIT_S, **params: Any
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await _rows(engine, sql, **params):
        assert time.monotonic() < deadline, f"no row for {sql} {params}"
        await asyncio.sleep(0.1)


def _of(records: list[Any], deals: set[str]) -> list[tuple[str, str, Any]]:
    """(topic, deal, payload) of the outcomes of this run's deals, in arrival order."""
    return [
        (r.topic, r.key.decode(), decode(r.value).payload)
        for r in records
        if r.key is not None and r.key.decode() in deals
    ]


def _count(deals: set[str], topic: str, n: int) -> Callable[[list[Any]], bool]:
    return lambda rs: sum(1 for t, _, _ in _of(rs, deals) if t == topic) >= n


async def test_native_invoices_payments_and_cancellations(
    endpoints: Endpoints, db: AsyncEngine
) -> None:
    run = new_run_id()
    deal_a, deal_b = f"inv-a-{run}", f"inv-b-{run}"
    deals = {deal_a, deal_b}
    order_a, order_b = order_confirmed(deal_a), order_confirmed(deal_b)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(
            endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.NATIVE)
        ):
            # A, then (once A is posted) B and A again: the same event twice and a re-publish
            # of the order under a new event id.
            await publish(endpoints.kafka, [record_of("order.confirmed", order_a)])
            await reader.collect(_count(deals, "invoice.posted", 1), timeout_s=WAIT_S)
            republished = order_a.model_copy(update={"event_id": uuid4()})
            await publish(
                endpoints.kafka,
                [
                    record_of("order.confirmed", order_a),
                    record_of("order.confirmed", republished),
                    record_of("order.confirmed", order_b),
                ],
            )
            await reader.collect(_count(deals, "invoice.posted", 2), timeout_s=WAIT_S)
            posted = {d: p for t, d, p in _of(reader.records, deals) if t == "invoice.posted"}
            inv_a, inv_b = posted[deal_a].invoice_id, posted[deal_b].invoice_id

            partial = record_payment(deal_a, "100.10", invoice_id=inv_a)
            await publish(
                endpoints.kafka,
                [
                    record_of("invoice.commands", partial),
                    record_of("invoice.commands", partial.model_copy(update={"event_id": uuid4()})),
                    record_of(
                        "invoice.commands", record_payment(deal_a, "233.01", invoice_id=inv_a)
                    ),
                    record_of(
                        "invoice.commands", record_payment(deal_a, "233.00", invoice_id=inv_a)
                    ),
                    record_of("invoice.commands", cancel_invoice(deal_a, inv_a)),
                    record_of("order.cancelled", order_cancelled(deal_b, order_b.payload.order_id)),
                    record_of("order.cancelled", order_cancelled(deal_a, order_a.payload.order_id)),
                ],
            )
            await reader.collect(
                lambda rs: len(_of(rs, deals)) >= 2 + 2 + 1 + 2 + 2 + 1, timeout_s=WAIT_S
            )
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    outcomes = _of(records, deals)
    assert Counter((t, d) for t, d, _ in outcomes) == {
        ("invoice.posted", deal_a): 1,
        ("invoice.posted", deal_b): 1,
        ("invoice.paid", deal_a): 2,
        ("invoice.rejected", deal_a): 1,
        # A paid invoice is cancelled by a full credit note; the money received becomes a
        # refund due. B (unpaid) is credited in full when its order is cancelled.
        ("invoice.credited", deal_a): 1,
        ("invoice.cancelled", deal_a): 1,
        ("refund.due", deal_a): 1,
        ("invoice.credited", deal_b): 1,
        ("invoice.cancelled", deal_b): 1,
    }, outcomes
    a, b = posted[deal_a], posted[deal_b]
    assert a.source.value == "native"
    assert (a.totals, a.lines) == (order_a.payload.totals, order_a.payload.lines)
    assert a.totals.grand_total == Decimal("333.10")
    await _assert_gap_free(db, a.invoice_number, b.invoice_number)

    paid = [p for t, _, p in outcomes if t == "invoice.paid"]
    assert [(p.amount_paid_total, p.balance_due, p.status.value) for p in paid] == [
        (Decimal("100.10"), Decimal("233.00"), "partial"),
        (Decimal("333.10"), Decimal("0.00"), "complete"),
    ]
    rejected = [(p.command_type, p.reason_code) for t, _, p in outcomes if t == "invoice.rejected"]
    assert rejected == [("invoice.record_payment", "overpayment")]
    credited = {d: p for t, d, p in outcomes if t == "invoice.credited"}
    assert credited[deal_a].totals == a.totals and credited[deal_b].totals == b.totals
    assert credited[deal_a].credit_note_number.startswith("CN-")
    due = next(p for t, _, p in outcomes if t == "refund.due")
    assert (due.amount, due.cause.value, due.invoice_id) == (
        Decimal("333.10"),
        "credited_after_payment",
        inv_a,
    )
    voided = {d: p for t, d, p in outcomes if t == "invoice.cancelled"}
    assert voided[deal_a].reason == "issued in error"
    assert voided[deal_b].invoice_id == inv_b
    assert voided[deal_b].credit_note_id == credited[deal_b].credit_note_id

    rows = await _rows(
        db,
        "SELECT i.invoice_id, i.state, i.payment_status, i.amount_paid, i.balance_due, "
        "(SELECT count(*) FROM invoice_svc.payments p WHERE p.invoice_id = i.invoice_id) AS n "
        "FROM invoice_svc.invoices i WHERE i.deal_id = ANY(:deals)",
        deals=sorted(deals),
    )
    state = {
        r.invoice_id: (r.state, r.payment_status, r.amount_paid, r.balance_due, r.n) for r in rows
    }
    assert state == {
        inv_a: ("canceled", None, Decimal("333.10"), Decimal("0.00"), 2),
        inv_b: ("canceled", None, Decimal(0), Decimal("0.00"), 0),
    }
    orders = await _rows(
        db, "SELECT deal_id, state FROM invoice_svc.orders WHERE deal_id = ANY(:d)", d=sorted(deals)
    )
    assert {(r.deal_id, r.state) for r in orders} == {(deal_a, "cancelled"), (deal_b, "cancelled")}
    # Receivables: what A's account owes is nothing, and the 333.10 it paid is held as credit.
    account = order_a.payload.account_id
    (owed,) = await _rows(
        db,
        "SELECT sum(amount) AS owed, -sum(amount) FILTER (WHERE invoice_id IS NULL) AS held "
        "FROM invoice_svc.receivable_entries WHERE account_id = :a",
        a=account,
    )
    assert (owed.owed, owed.held) == (Decimal("-333.10"), Decimal("333.10"))


async def _assert_gap_free(db: AsyncEngine, first: str, second: str) -> None:
    """Every year's native numbers are exactly 1..counter, and B follows A but for invoices
    other runs posted in between."""
    rows = await _rows(db, "SELECT invoice_number FROM invoice_svc.invoices WHERE source='native'")
    by_year: dict[int, list[int]] = defaultdict(list)
    for (number,) in rows:
        match = _NUMBER.match(number)
        assert match, number
        by_year[int(match[1])].append(int(match[2]))
    counters = dict(await _rows(db, "SELECT year, last FROM invoice_svc.invoice_counters"))
    for year, seqs in by_year.items():
        assert sorted(seqs) == list(range(1, counters[year] + 1)), year
    (ya, sa), (yb, sb) = (_NUMBER.match(n).groups() for n in (first, second))  # type: ignore[union-attr]
    assert ya == yb
    between = [s for s in by_year[int(ya)] if int(sa) < s < int(sb)]
    assert int(sb) - int(sa) == 1 + len(between)


async def test_external_invoices_held_checked_and_registered_once(
    endpoints: Endpoints, db: AsyncEngine
) -> None:
    run = new_run_id()
    deal_c, deal_d = f"ext-c-{run}", f"ext-d-{run}"
    deals = {deal_c, deal_d}
    order_c, order_d = order_confirmed(deal_c), order_confirmed(deal_d)
    erp_c, erp_d = f"ERP-C-{run}", f"ERP-D-{run}"
    early = register_external(deal_c, order_c.payload.order_id, erp_c)
    off = totals_of(priced_lines()).model_copy(
        update={"net_total": Decimal("289.90"), "grand_total": Decimal("333.00")}
    )
    mismatched = register_external(deal_d, order_d.payload.order_id, erp_d, totals=off)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(
            endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.EXTERNAL)
        ):
            await publish(endpoints.kafka, [record_of("invoice.commands", early)])
            await _until_row(
                db,
                "SELECT 1 FROM invoice_svc.pending_external_invoices "
                "WHERE external_invoice_id = :e",
                e=erp_c,
            )
            # D's order and its ERP invoice race on two topics: held-then-refused or refused at
            # once, the answer must be the same.
            await publish(
                endpoints.kafka,
                [
                    record_of("order.confirmed", order_c),
                    record_of("order.confirmed", order_d),
                    record_of("invoice.commands", mismatched),
                ],
            )
            await reader.collect(lambda rs: len(_of(rs, deals)) >= 2, timeout_s=WAIT_S)
            await publish(
                endpoints.kafka,
                [
                    record_of("invoice.commands", early),
                    record_of("invoice.commands", early.model_copy(update={"event_id": uuid4()})),
                    record_of(
                        "invoice.commands",
                        record_payment(deal_c, "333.10", external_invoice_id=erp_c),
                    ),
                ],
            )
            await reader.collect(lambda rs: len(_of(rs, deals)) >= 3, timeout_s=WAIT_S)
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    outcomes = _of(records, deals)
    assert Counter((t, d) for t, d, _ in outcomes) == {
        ("invoice.posted", deal_c): 1,
        ("invoice.rejected", deal_d): 1,
        ("invoice.paid", deal_c): 1,
    }, outcomes
    posted = next(p for t, _, p in outcomes if t == "invoice.posted")
    assert posted.source.value == "external"
    assert (posted.external_invoice_id, posted.invoice_number) == (erp_c, f"ERP-{erp_c}")
    assert posted.order_id == order_c.payload.order_id
    assert (posted.lines, posted.totals) == (order_c.payload.lines, order_c.payload.totals)
    assert str(posted.issue_date) == "2026-11-27"
    refused = next(p for t, _, p in outcomes if t == "invoice.rejected")
    assert (refused.command_type, refused.reason_code) == (
        "invoice.register_external",
        "totals_mismatch",
    )
    assert refused.command_event_id == mismatched.event_id
    assert "grand_total 333.00 vs 333.10 (difference -0.10)" in refused.detail
    paid = next(p for t, _, p in outcomes if t == "invoice.paid")
    assert (paid.status.value, paid.balance_due) == ("complete", Decimal("0.00"))

    invoices = await _rows(
        db,
        "SELECT deal_id, source, external_invoice_id FROM invoice_svc.invoices "
        "WHERE deal_id = ANY(:d)",
        d=sorted(deals),
    )
    assert [tuple(r) for r in invoices] == [(deal_c, "external", erp_c)]
    pending = await _rows(
        db,
        "SELECT 1 FROM invoice_svc.pending_external_invoices WHERE external_invoice_id = ANY(:e)",
        e=[erp_c, erp_d],
    )
    assert pending == []
