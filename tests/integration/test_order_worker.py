"""order_svc on real Kafka and PostgreSQL, in this process: one order per accepted quote (also
from an outside producer), refusals as order.rejected, fulfilment, cancellation, invoicing."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.documents import DocumentTotals
from contracts.envelope import Envelope, decode
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.orders import accepted, cancel, fulfilment, invoice_posted
from tests.support.workers import running_worker, wait_for

pytestmark = pytest.mark.integration

OUTCOMES = ("order.confirmed", "order.fulfilled", "order.cancelled", "order.rejected")


def _by_deal(records: list[Any], deals: set[str]) -> list[Any]:
    return [r for r in records if r.key is not None and r.key.decode() in deals]


def _events(records: list[Any], deals: set[str]) -> list[tuple[str, Envelope[Any]]]:
    return [(r.topic, decode(r.value)) for r in _by_deal(records, deals)]


async def _orders_in_db(endpoints: Endpoints, deals: set[str]) -> list[dict[str, Any]]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT order_id, quote_id, order_number, deal_id, state, completeness, "
                    "subtotal, discount_total, net_total, tax_total, grand_total, shipped, "
                    "shipment_refs, invoice_id, invoice_number, invoices "
                    "FROM order_svc.orders WHERE deal_id = ANY(:deals) ORDER BY deal_id"
                ),
                {"deals": sorted(deals)},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


def _submitted_unless_invoiced(row: dict[str, Any]) -> str:
    # invoice_svc, when it runs on the same broker (other suites, the demo), invoices every
    # confirmed order; the order then reads Invoiced, with the invoice recorded.
    return "invoiced" if row["invoice_id"] is not None else "submitted"


def _invoice_numbers(row: dict[str, Any]) -> list[str]:
    return [i["invoice_number"] for i in row["invoices"]]


async def _until_invoiced(endpoints: Endpoints, deal_id: str, invoice_number: str) -> None:
    for _ in range(200):
        rows = await _orders_in_db(endpoints, {deal_id})
        if rows and invoice_number in _invoice_numbers(rows[0]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the order of {deal_id} did not record invoice {invoice_number}")


def _duplicates_dropped(worker: Any) -> float:
    total = 0.0
    for line in worker.metrics.render().decode().splitlines():
        if line.startswith("salesflow_duplicates_dropped_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_one_order_per_accepted_quote_and_tampered_totals_are_refused(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    quote = accepted(f"ord-{run}")  # producer "erp-crm": an outside system speaks the contract
    again = accepted(quote.deal_id, quote_id=quote.payload.quote_id)  # same quote, new event id
    forged_totals = quote.payload.totals.model_copy(
        update={"grand_total": quote.payload.totals.grand_total + Decimal("0.01")}
    )
    tampered = accepted(f"forged-{run}", totals=DocumentTotals.model_validate(forged_totals))
    deals = {quote.deal_id, tampered.deal_id}
    assert quote.producer == "erp-crm"
    assert again.event_id != quote.event_id

    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "order") as worker:
            before = _duplicates_dropped(worker)
            first = record_of("quote.accepted", quote)
            # The same event twice in one publish, the forged quote alongside.
            await publish(endpoints.kafka, [first, first, record_of("quote.accepted", tampered)])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 2)
            # Once more after it was processed (a later batch), then the new event id.
            await publish(endpoints.kafka, [first, record_of("quote.accepted", again)])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 3)
            await wait_for(
                lambda: _duplicates_dropped(worker) >= before + 2, 30, "2 duplicates dropped"
            )
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    events = _events(records, deals)
    assert Counter(topic for topic, _ in events) == {"order.confirmed": 1, "order.rejected": 2}
    [confirmed] = [e for t, e in events if t == "order.confirmed"]
    order = confirmed.payload
    assert confirmed.deal_id == quote.deal_id
    assert confirmed.causation_id == quote.event_id
    assert confirmed.producer == "order_svc"
    assert order.quote_id == quote.payload.quote_id
    assert order.lines == quote.payload.lines
    assert order.totals == quote.payload.totals
    assert order.order_number.startswith("SO-")
    assert len(order.order_number) == len("SO-2026-00001")
    rejections = {e.deal_id: e.payload for t, e in events if t == "order.rejected"}
    assert rejections[quote.deal_id].reason_code == "order_exists"
    assert rejections[quote.deal_id].command_event_id == again.event_id
    assert rejections[tampered.deal_id].reason_code == "totals_mismatch"
    assert "grand_total" in rejections[tampered.deal_id].detail

    rows = await _orders_in_db(endpoints, deals)
    assert len(rows) == 1  # one order, none for the forged quote
    [row] = rows
    assert (row["order_id"], row["quote_id"], row["order_number"], row["state"]) == (
        order.order_id,
        quote.payload.quote_id,
        order.order_number,
        _submitted_unless_invoiced(row),
    )
    totals = quote.payload.totals
    assert (
        row["subtotal"],
        row["discount_total"],
        row["net_total"],
        row["tax_total"],
        row["grand_total"],
    ) == (
        totals.subtotal,
        totals.discount_total,
        totals.net_total,
        totals.tax_total,
        totals.grand_total,
    )


async def test_fulfilment_cancellation_and_invoicing(endpoints: Endpoints) -> None:
    run = new_run_id()
    shipped = accepted(f"ship-{run}")
    fresh = accepted(f"cancel-{run}")
    billed = accepted(f"bill-{run}")
    quotes = (shipped, fresh, billed)
    deals = {q.deal_id for q in quotes}

    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "order"):
            await publish(endpoints.kafka, [record_of("quote.accepted", q) for q in quotes])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 3)
            ids = {
                e.deal_id: e.payload.order_id
                for t, e in _events(reader.records, deals)
                if t == "order.confirmed"
            }
            s, c, b = (ids[q.deal_id] for q in quotes)
            commands = [
                # Each deal's commands share its key, so they arrive in this order.
                fulfilment(shipped.deal_id, s, f"SHP-{run}-1", {1: "4"}),
                fulfilment(shipped.deal_id, s, f"SHP-{run}-2", {1: "6", 2: "3", 3: "1"}),
                fulfilment(shipped.deal_id, s, f"SHP-{run}-1", {1: "4"}),  # resent, new event id
                cancel(shipped.deal_id, s),
                cancel(fresh.deal_id, c),
            ]
            posted = invoice_posted(
                billed.deal_id, b, quote_id=billed.payload.quote_id, invoice_number="INV-9"
            )
            await publish(
                endpoints.kafka,
                [
                    *(record_of("order.commands", e) for e in commands),
                    record_of("invoice.posted", posted),
                ],
            )
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 3 + 5)
            # invoice.posted and order.commands are different topics, ordered only within each:
            # the cancel goes out once the invoice is applied (it publishes nothing to wait for).
            await _until_invoiced(endpoints, billed.deal_id, "INV-9")
            await publish(endpoints.kafka, [record_of("order.commands", cancel(billed.deal_id, b))])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 3 + 6)
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    after_confirm = [
        (t, e.deal_id, e.payload) for t, e in _events(records, deals) if t != "order.confirmed"
    ]
    assert len(after_confirm) == 6, [(t, d) for t, d, _ in after_confirm]
    of_shipped = [(t, p) for t, d, p in after_confirm if d == shipped.deal_id]
    # Order holds within one output topic (one deal, one partition), not across topics.
    fulfilled = [p for t, p in of_shipped if t == "order.fulfilled"]
    assert [p.completeness.value for p in fulfilled] == ["partial", "complete"]
    refused = [p.reason_code for t, p in of_shipped if t == "order.rejected"]
    assert refused == ["duplicate_shipment", "already_fulfilled"]
    complete = fulfilled[1]
    assert [(x.line_no, x.quantity_shipped_total) for x in complete.lines] == [
        (1, Decimal(10)),
        (2, Decimal(3)),
        (3, Decimal(1)),
    ]
    rows = {r["deal_id"]: r for r in await _orders_in_db(endpoints, deals)}
    [(t, p)] = [(t, p) for t, d, p in after_confirm if d == fresh.deal_id]
    if rows[fresh.deal_id]["state"] == "invoiced":
        # A native invoice_svc on the same broker invoiced the order before the cancel came.
        assert (t, p.reason_code) == ("order.rejected", "already_invoiced")
    else:
        assert (t, p.order_id) == ("order.cancelled", c)
        assert rows[fresh.deal_id]["state"] == "canceled"
    [(t, p)] = [(t, p) for t, d, p in after_confirm if d == billed.deal_id]
    assert (t, p.reason_code, p.command_type) == (
        "order.rejected",
        "already_invoiced",
        "order.cancel",
    )

    ship_row = rows[shipped.deal_id]
    assert ship_row["completeness"] == "complete"
    assert ship_row["state"] == ("invoiced" if ship_row["invoice_id"] else "fulfilled")
    assert rows[shipped.deal_id]["shipped"] == {"1": "10", "2": "3", "3": "1"}
    assert sorted(rows[shipped.deal_id]["shipment_refs"]) == [f"SHP-{run}-1", f"SHP-{run}-2"]
    assert rows[billed.deal_id]["state"] == "invoiced"
    assert "INV-9" in _invoice_numbers(rows[billed.deal_id])
    assert rows[billed.deal_id]["invoice_id"] is not None
