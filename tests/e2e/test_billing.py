"""Billing through the four workers: invoiced on delivery as the order ships, a cancellation
after payment (credited, refund due, refund recorded), the unshipped remainder of a partly
shipped order cancelled, and the receivables that result."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from contracts.billing import RecordRefund
from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope
from contracts.orders import CancelOrder, RecordFulfilment, ShippedLine
from tests.support.kafka_probe import publish, record_of
from tests.support.pipeline import Pipeline, accept, command, issued_quote, lead_of, pay

pytestmark = pytest.mark.e2e


async def _ship(
    pipe: Pipeline, deal: str, order: Envelope[Any], ref: str, qty: dict[int, str]
) -> None:
    shipment = RecordFulfilment(
        order_id=order.payload.order_id,
        shipment_ref=ref,
        lines=tuple(ShippedLine(line_no=n, quantity_shipped=Decimal(q)) for n, q in qty.items()),
    )
    await publish(
        pipe.endpoints.kafka,
        [record_of("order.commands", command(shipment, "order.record_fulfilment", deal))],
    )


async def _cancel(pipe: Pipeline, deal: str, order: Envelope[Any]) -> None:
    cancel = CancelOrder(
        order_id=order.payload.order_id, reason="customer withdrew", requested_by="rep"
    )
    await publish(
        pipe.endpoints.kafka, [record_of("order.commands", command(cancel, "order.cancel", deal))]
    )


async def _owed(pipe: Pipeline, account: Any) -> tuple[Decimal, Decimal]:
    owed = await pipe.scalar(
        "SELECT coalesce(sum(amount), 0) FROM invoice_svc.receivable_entries WHERE account_id = :a",
        a=account,
    )
    held = await pipe.scalar(
        "SELECT coalesce(balance, 0) FROM invoice_svc.account_credits WHERE account_id = :a",
        a=account,
    )
    return Decimal(owed), Decimal(held or 0)


async def test_invoiced_on_delivery_as_the_order_ships(pipeline: Pipeline) -> None:
    lead = lead_of("ship")
    deal = lead.deal_id
    await accept(
        pipeline, deal, await issued_quote(pipeline, lead), policy=InvoicingPolicy.ON_DELIVERY
    )
    (order,) = await pipeline.events(deal, "order.confirmed")
    assert order.payload.invoicing_policy is InvoicingPolicy.ON_DELIVERY
    await _ship(pipeline, deal, order, "S1", {1: "4"})
    (first,) = await pipeline.events(deal, "invoice.posted")
    assert [(x.line_no, x.quantity) for x in first.payload.lines] == [(1, Decimal(4))]
    (partly,) = await pipeline.events(deal, "order.invoiced")
    assert partly.payload.billing_status.value == "partly_invoiced"
    await _ship(pipeline, deal, order, "S2", {1: "6", 2: "3"})
    invoices = await pipeline.events(deal, "invoice.posted", count=2)
    billed = sum((i.payload.totals.grand_total for i in invoices), Decimal(0))
    assert billed == order.payload.totals.grand_total
    fully = await pipeline.events(
        deal, "order.invoiced", where=lambda e: e.payload.billing_status.value == "fully_invoiced"
    )
    assert fully
    state = await pipeline.scalar(
        "SELECT state FROM order_svc.orders WHERE order_id = :id", id=order.payload.order_id
    )
    assert state == "invoiced"


async def test_a_paid_order_cancelled_is_credited_and_refunded(pipeline: Pipeline) -> None:
    # A company of its own: the account's receivables are this test's alone.
    lead = lead_of("refund", company=f"Refund Test {uuid.uuid4().hex[:8]} GmbH")
    deal = lead.deal_id
    await accept(pipeline, deal, await issued_quote(pipeline, lead))
    (order,) = await pipeline.events(deal, "order.confirmed")
    (invoice,) = await pipeline.events(deal, "invoice.posted")
    total = invoice.payload.totals.grand_total
    # The payment and the cancellation race: published together, on two topics.
    await pay(pipeline, deal, invoice, total, 1)
    await _cancel(pipeline, deal, order)
    await pipeline.events(deal, "order.cancelled")
    (note,) = await pipeline.events(deal, "invoice.credited")
    (due,) = await pipeline.events(deal, "refund.due")
    assert note.payload.totals.grand_total == total
    assert (due.payload.amount, due.payload.cause.value) == (total, "credited_after_payment")
    account = order.payload.account_id
    assert await _owed(pipeline, account) == (-total, total)
    refund = RecordRefund(
        refund_id=f"RF-{invoice.payload.invoice_number}",
        account_id=account,
        currency=invoice.payload.currency,
        amount=total,
        refunded_at=datetime.now(UTC),
        method="bank_transfer",
    )
    await publish(
        pipeline.endpoints.kafka,
        [record_of("invoice.commands", command(refund, "invoice.record_refund", str(account)))],
    )
    await pipeline.reader.collect(
        lambda rs: any(r.topic == "invoice.refunded" and r.key == str(account).encode() for r in rs)
    )
    assert await _owed(pipeline, account) == (Decimal(0), Decimal(0))


async def test_the_remainder_of_a_partly_shipped_order_is_cancelled(pipeline: Pipeline) -> None:
    lead = lead_of("remainder")
    deal = lead.deal_id
    await accept(pipeline, deal, await issued_quote(pipeline, lead))
    (order,) = await pipeline.events(deal, "order.confirmed")
    (invoice,) = await pipeline.events(deal, "invoice.posted")
    await _ship(pipeline, deal, order, "S1", {1: "4", 2: "3"})
    await pipeline.events(deal, "order.fulfilled")
    await _cancel(pipeline, deal, order)
    (cancelled,) = await pipeline.events(deal, "order.cancelled")
    shipped = {x.line_no: x.quantity_shipped_total for x in cancelled.payload.lines}
    assert shipped == {1: Decimal(4), 2: Decimal(3)}
    (note,) = await pipeline.events(deal, "invoice.credited")
    assert [(x.line_no, x.quantity) for x in note.payload.order_lines] == [(1, Decimal(6))]
    assert note.payload.invoice_balance_due == (
        invoice.payload.totals.grand_total - note.payload.totals.grand_total
    )
    invoiced = await pipeline.events(
        deal, "order.invoiced", where=lambda e: e.payload.document_id == note.payload.credit_note_id
    )
    lines = {x.line_no: x.quantity_invoiced for x in invoiced[-1].payload.lines}
    assert lines == {1: Decimal(4), 2: Decimal(3)}
