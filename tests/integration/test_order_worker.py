"""order_svc on real Kafka and PostgreSQL, in this process: one order per accepted quote (also
from an outside producer), refusals as order.rejected, fulfilment, cancellation (whole, or the
remainder of a partly shipped order, paid or not), and billing: invoices and credit notes counted
per line, announced as order.invoiced, each document once."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.documents import DocumentTotals, InvoicingPolicy
from contracts.envelope import Envelope, decode
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.orders import (
    accepted,
    cancel,
    fulfilment,
    invoice_credited,
    invoice_paid,
    invoice_posted,
)
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

OUTCOMES = ("order.confirmed", "order.fulfilled", "order.cancelled", "order.rejected")
# Read too, but not counted with the outcomes: an invoice_svc on the same broker (other suites,
# the demo) may invoice these orders as well, and each of its invoices is announced.
BILLING = "order.invoiced"


def _by_deal(records: list[Any], deals: set[str]) -> list[Any]:
    return [
        r for r in records if r.key is not None and r.key.decode() in deals and r.topic in OUTCOMES
    ]


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
                    "shipment_refs, invoice_id, invoice_number, invoices, billing_status, "
                    "invoiced, credited, credit_note_ids, invoicing_policy, down_payment_rate "
                    "FROM order_svc.orders WHERE deal_id = ANY(:deals) ORDER BY deal_id"
                ),
                {"deals": sorted(deals)},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


def _submitted_unless_invoiced(row: dict[str, Any]) -> str:
    # invoice_svc, when it runs on the same broker (other suites, the demo), may invoice every
    # confirmed order; the order then reads Invoiced once that billed all of it.
    return "invoiced" if row["billing_status"] == "fully_invoiced" else "submitted"


def _invoice_marks(row: dict[str, Any]) -> list[tuple[str, bool]]:
    """(number, paid) of every invoice recorded on the order row."""
    return [(i["invoice_number"], i.get("paid", False)) for i in row["invoices"]]


async def _until_row(endpoints: Endpoints, deal_id: str, holds: Any, what: str) -> None:
    for _ in range(200):
        rows = await _orders_in_db(endpoints, {deal_id})
        if rows and holds(rows[0]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the order of {deal_id} did not {what}")


async def _until_invoice(
    endpoints: Endpoints, deal_id: str, invoice_number: str, *, paid: bool = False
) -> None:
    """Wait until the order row records the invoice (and, with `paid`, a payment for it)."""
    for _ in range(200):
        rows = await _orders_in_db(endpoints, {deal_id})
        if rows and any(
            number == invoice_number and (marked or not paid)
            for number, marked in _invoice_marks(rows[0])
        ):
            return
        await asyncio.sleep(0.1)
    state = "paid " if paid else ""
    raise AssertionError(f"the order of {deal_id} did not record {state}invoice {invoice_number}")


async def test_one_order_per_accepted_quote_and_tampered_totals_are_refused(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    # Producer "erp-crm": an outside system speaks the contract, billing terms included.
    quote = accepted(
        f"ord-{run}",
        invoicing_policy=InvoicingPolicy.DOWN_PAYMENT,
        down_payment_rate=Decimal("0.3"),
    )
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
        async with running_worker(endpoints, "order"):
            first = record_of("quote.accepted", quote)
            # The same event twice in one publish, the forged quote alongside.
            await publish(endpoints.kafka, [first, first, record_of("quote.accepted", tampered)])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 2)
            # Once more after it was processed (a later batch), then the new event id.
            await publish(endpoints.kafka, [first, record_of("quote.accepted", again)])
            # The deal's messages share a partition: once `again` is answered, both copies of
            # `first` were consumed. One effect is proved by the outcomes (one confirmation, no
            # rejection for `first`), not by this worker's duplicate counter: an order worker of
            # another run on the shared broker may hold the partition and count them instead.
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 3)
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
    assert (order.invoicing_policy, order.down_payment_rate) == (
        InvoicingPolicy.DOWN_PAYMENT,
        Decimal("0.3"),
    )
    # Five digits at least; a year with more orders widens the number rather than wrapping.
    assert re.fullmatch(r"SO-\d{4}-\d{5,}", order.order_number), order.order_number
    rejections = {e.deal_id: e.payload for t, e in events if t == "order.rejected"}
    assert rejections[quote.deal_id].reason_code == "order_exists"
    assert rejections[quote.deal_id].command_event_id == again.event_id
    assert rejections[tampered.deal_id].reason_code == "totals_mismatch"
    assert "grand_total" in rejections[tampered.deal_id].detail

    rows = await _orders_in_db(endpoints, deals)
    assert len(rows) == 1  # one order, none for the forged quote
    [row] = rows
    assert (row["invoicing_policy"], row["down_payment_rate"]) == ("down_payment", Decimal("0.3"))
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


async def test_fulfilment_cancellation_invoicing_and_payment(endpoints: Endpoints) -> None:
    run = new_run_id()
    shipped = accepted(f"ship-{run}")
    fresh = accepted(f"cancel-{run}")
    unpaid = accepted(f"unpaid-{run}")
    billed = accepted(f"bill-{run}")
    partial = accepted(f"part-{run}")
    quotes = (shipped, fresh, unpaid, billed, partial)
    deals = {q.deal_id for q in quotes}
    invoice_id, credit_note_id = uuid.uuid4(), uuid.uuid4()

    reader = await TopicReader(endpoints.kafka, (*OUTCOMES, BILLING)).start()
    try:
        async with running_worker(endpoints, "order"):
            await publish(endpoints.kafka, [record_of("quote.accepted", q) for q in quotes])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 5)
            ids = {
                e.deal_id: e.payload.order_id
                for t, e in _events(reader.records, deals)
                if t == "order.confirmed"
            }
            s, c, u, b, pt = (ids[q.deal_id] for q in quotes)
            commands = [
                # Each deal's commands share its key, so they arrive in this order.
                fulfilment(shipped.deal_id, s, f"SHP-{run}-1", {1: "4"}),
                fulfilment(shipped.deal_id, s, f"SHP-{run}-2", {1: "6", 2: "3", 3: "1"}),
                fulfilment(shipped.deal_id, s, f"SHP-{run}-1", {1: "4"}),  # resent, new event id
                cancel(shipped.deal_id, s),
                cancel(fresh.deal_id, c),
                fulfilment(partial.deal_id, pt, f"SHP-{run}-3", {1: "4", 3: "1"}),
                cancel(partial.deal_id, pt, "rest not needed"),
            ]
            posted = [
                invoice_posted(
                    billed.deal_id,
                    b,
                    quote_id=billed.payload.quote_id,
                    invoice_id=invoice_id,
                    invoice_number="INV-9",
                ),
                invoice_posted(
                    unpaid.deal_id, u, quote_id=unpaid.payload.quote_id, invoice_number="INV-8"
                ),
            ]
            await publish(
                endpoints.kafka,
                [
                    *(record_of("order.commands", e) for e in commands),
                    *(record_of("invoice.posted", e) for e in posted),
                ],
            )
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 5 + 7)
            # invoice.posted, invoice.paid, invoice.credited and order.commands are different
            # topics, ordered only within each: every next step goes out once the row shows the
            # previous one.
            await _until_invoice(endpoints, unpaid.deal_id, "INV-8")
            await _until_invoice(endpoints, billed.deal_id, "INV-9")
            # Invoiced, no payment: the cancel goes through (invoice_svc credits the invoice).
            await publish(endpoints.kafka, [record_of("order.commands", cancel(unpaid.deal_id, u))])
            # The payment, as invoice_svc publishes it: keyed by the deal, no order id. Delivered
            # twice; not counted on this worker's metrics, because an order worker of another run
            # on the shared broker may hold the partition (the row shows the one effect anyway).
            payment = record_of(
                "invoice.paid", invoice_paid(billed.deal_id, invoice_id, invoice_number="INV-9")
            )
            await publish(endpoints.kafka, [payment, payment])
            await _until_invoice(endpoints, billed.deal_id, "INV-9", paid=True)
            # A credit note taking 2 of line 1 back, resent under a new event id: counted once.
            credit_notes = [
                invoice_credited(
                    billed.deal_id, b, invoice_id, credit_note_id=credit_note_id, order_lines=lines
                )
                for lines in ({1: "2"}, {1: "2"})
            ]
            await publish(endpoints.kafka, [record_of("invoice.credited", e) for e in credit_notes])
            await _until_row(
                endpoints,
                billed.deal_id,
                lambda row: str(credit_note_id) in row["credit_note_ids"],
                "record the credit note",
            )
            # Paid and credited: the cancel goes through all the same (the money becomes a
            # refund due at invoice_svc).
            await publish(endpoints.kafka, [record_of("order.commands", cancel(billed.deal_id, b))])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 5 + 9)
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    after_confirm = [
        (t, e.deal_id, e.payload) for t, e in _events(records, deals) if t != "order.confirmed"
    ]
    assert len(after_confirm) == 9, [(t, d) for t, d, _ in after_confirm]
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
    # Whether or not an invoice_svc on the same broker invoiced it first.
    [(t, p)] = [(t, p) for t, d, p in after_confirm if d == fresh.deal_id]
    assert (t, p.order_id) == ("order.cancelled", c)
    assert [(x.line_no, x.quantity_shipped_total) for x in p.lines] == [
        (1, Decimal(0)),
        (2, Decimal(0)),
        (3, Decimal(0)),
    ]
    assert rows[fresh.deal_id]["state"] == "canceled"
    [(t, p)] = [(t, p) for t, d, p in after_confirm if d == unpaid.deal_id]
    assert (t, p.order_id, p.order_number) == (
        "order.cancelled",
        u,
        rows[unpaid.deal_id]["order_number"],
    )
    assert rows[unpaid.deal_id]["state"] == "canceled"
    assert ("INV-8", False) in _invoice_marks(rows[unpaid.deal_id])
    # Partly shipped: the remainder is canceled and the order closes, what shipped recorded.
    of_partial = [(t, p) for t, d, p in after_confirm if d == partial.deal_id]
    # Two topics, so no order between them.
    assert sorted(t for t, _ in of_partial) == ["order.cancelled", "order.fulfilled"]
    [remainder] = [p for t, p in of_partial if t == "order.cancelled"]
    assert (remainder.order_id, remainder.reason) == (pt, "rest not needed")
    assert [(x.line_no, x.quantity_ordered, x.quantity_shipped_total) for x in remainder.lines] == [
        (1, Decimal(10), Decimal(4)),
        (2, Decimal(3), Decimal(0)),
        (3, Decimal(1), Decimal(1)),
    ]
    part_row = rows[partial.deal_id]
    assert (part_row["order_id"], part_row["state"], part_row["completeness"]) == (
        pt,
        "canceled",
        "partial",
    )
    # Paid, then canceled all the same.
    [(t, p)] = [(t, p) for t, d, p in after_confirm if d == billed.deal_id]
    assert (t, p.order_id) == ("order.cancelled", b)
    bill_row = rows[billed.deal_id]
    assert bill_row["state"] == "canceled"
    # Exactly the paid invoice is marked (invoice_svc may have added its own, unpaid).
    assert [n for n, paid in _invoice_marks(bill_row) if paid] == ["INV-9"]
    # Our credit note is recorded; an invoice_svc on the broker may add its own (it credits what
    # it invoiced once it hears of the cancellation), so the row's totals are not ours alone.
    assert str(credit_note_id) in bill_row["credit_note_ids"]

    ship_row = rows[shipped.deal_id]
    assert ship_row["completeness"] == "complete"
    assert ship_row["state"] == (
        "invoiced" if ship_row["billing_status"] == "fully_invoiced" else "fulfilled"
    )
    assert rows[shipped.deal_id]["shipped"] == {"1": "10", "2": "3", "3": "1"}
    assert sorted(rows[shipped.deal_id]["shipment_refs"]) == [f"SHP-{run}-1", f"SHP-{run}-2"]

    # Billing, announced per document: INV-9 billed all of the order; the credit note took 2 of
    # line 1 back from whatever was invoiced then (an invoice_svc on the broker may have billed
    # the order too), and was announced once.
    billing = [
        decode(r.value).payload
        for r in records
        if r.topic == BILLING and r.key is not None and r.key.decode() == billed.deal_id
    ]
    [by_invoice] = [e for e in billing if e.document_id == invoice_id]
    assert by_invoice.billing_status.value == "fully_invoiced"
    [by_credit] = [e for e in billing if e.document_id == credit_note_id]
    assert billing.index(by_credit) > billing.index(by_invoice)
    before = billing[billing.index(by_credit) - 1]
    assert by_credit.lines[0].quantity_invoiced == before.lines[0].quantity_invoiced - 2
    assert [x.quantity_invoiced for x in by_credit.lines[1:]] == [
        x.quantity_invoiced for x in before.lines[1:]
    ]
    assert by_credit.billing_status.value in ("partly_invoiced", "fully_invoiced")
    unpaid_billing = [
        decode(r.value).payload
        for r in records
        if r.topic == BILLING and r.key is not None and r.key.decode() == unpaid.deal_id
    ]
    assert any(e.billing_status.value == "fully_invoiced" for e in unpaid_billing)
