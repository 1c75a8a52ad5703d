"""The whole lifecycle with the four workers as separate processes on real Kafka and PostgreSQL.

A lead becomes a paid invoice; a revision then acceptance; an expired quote is refused; a
cancellation cancels its unpaid invoice; external invoicing with the ERP's invoice arriving
before its order; a quote.accepted from an outside producer while quote_svc is not running;
duplicate deliveries anywhere in the chain give one order and one invoice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.envelope import Envelope, make_envelope
from contracts.invoices import RegisterExternalInvoice
from contracts.leads import ContactInfo
from contracts.money import sum_totals
from contracts.orders import CancelOrder
from contracts.quotes import QuoteAccepted, QuoteLineInput, ReviseQuote
from tests.support.kafka_probe import publish, record_of
from tests.support.leads import new_run_id
from tests.support.pipeline import Pipeline, accept, command, issued_quote, lead_of, pay

pytestmark = pytest.mark.e2e


async def test_a_lead_becomes_a_paid_invoice(pipeline: Pipeline) -> None:
    lead = lead_of("paid")
    deal = lead.deal_id
    issued = await issued_quote(pipeline, lead)
    # SKU-1001 19.99 x 10 and SKU-2001 from the sample list, 19 % tax: priced, then totals.
    assert [line.sku for line in issued.payload.lines] == ["SKU-1001", "SKU-2001"]
    await accept(pipeline, deal, issued)
    (accepted,) = await pipeline.events(deal, "quote.accepted")
    (won,) = await pipeline.events(deal, "opportunity.closed")
    (order,) = await pipeline.events(deal, "order.confirmed")
    (invoice,) = await pipeline.events(deal, "invoice.posted")
    totals = {e.payload.totals for e in (issued, accepted, order, invoice)}
    assert len(totals) == 1, f"totals differ along the deal: {totals}"
    assert won.payload.outcome.value == "won"
    assert invoice.payload.order_id == order.payload.order_id
    assert invoice.payload.lines == order.payload.lines == accepted.payload.lines
    total = invoice.payload.totals.grand_total
    part = (total / 3).quantize(Decimal("0.01"))
    await pay(pipeline, deal, invoice, part, 1)
    await pipeline.events(deal, "invoice.paid")
    await pay(pipeline, deal, invoice, total - part, 2)
    paid = await pipeline.events(deal, "invoice.paid", count=2)
    assert [p.payload.status.value for p in paid] == ["partial", "complete"]
    assert paid[-1].payload.balance_due == Decimal(0)
    # Every event of the deal carries the deal id and points at its cause.
    chain = [env for _, env in pipeline.all_events(deal) if env is not None]
    assert all(env.causation_id is not None for env in chain)
    state = await pipeline.scalar(
        "SELECT state FROM order_svc.orders WHERE order_id = :id", id=order.payload.order_id
    )
    assert state == "invoiced"


async def test_a_revision_then_acceptance(pipeline: Pipeline) -> None:
    lead = lead_of("revise")
    deal = lead.deal_id
    first = await issued_quote(pipeline, lead)
    revise = ReviseQuote(
        quote_id=first.payload.quote_id,
        lines=(
            QuoteLineInput(
                sku="SKU-1001",
                description=None,
                quantity=Decimal(25),
                unit_price=None,
                discount_amount=Decimal("10.00"),
                tax_rate=None,
            ),
        ),
        requested_by="rep",
        note="bigger order, small discount",
    )
    await publish(
        pipeline.endpoints.kafka,
        [record_of("quote.commands", command(revise, "quote.revise", deal))],
    )
    (closed,) = await pipeline.events(deal, "quote.closed")
    assert closed.payload.status.value == "revised"
    issued = await pipeline.events(deal, "quote.issued", count=2)
    second = issued[-1]
    assert second.payload.revision == 2
    assert second.payload.quote_number == first.payload.quote_number
    assert second.payload.lines[0].discount_amount == Decimal("10.00")
    await accept(pipeline, deal, second)
    (order,) = await pipeline.events(deal, "order.confirmed")
    assert order.payload.totals == second.payload.totals
    assert order.payload.quote_id == second.payload.quote_id


async def test_a_cancellation_cancels_its_unpaid_invoice(pipeline: Pipeline) -> None:
    lead = lead_of("cancel")
    deal = lead.deal_id
    await accept(pipeline, deal, await issued_quote(pipeline, lead))
    (order,) = await pipeline.events(deal, "order.confirmed")
    (invoice,) = await pipeline.events(deal, "invoice.posted")
    cancel = CancelOrder(
        order_id=order.payload.order_id, reason="customer withdrew", requested_by="rep"
    )
    await publish(
        pipeline.endpoints.kafka,
        [record_of("order.commands", command(cancel, "order.cancel", deal))],
    )
    await pipeline.events(deal, "order.cancelled")
    (void,) = await pipeline.events(deal, "invoice.cancelled")
    assert void.payload.invoice_id == invoice.payload.invoice_id


async def test_duplicate_deliveries_give_one_order_and_one_invoice(pipeline: Pipeline) -> None:
    lead = lead_of("dups")
    deal = lead.deal_id
    await accept(pipeline, deal, await issued_quote(pipeline, lead))
    (accepted,) = await pipeline.events(deal, "quote.accepted")
    (order,) = await pipeline.events(deal, "order.confirmed")
    await pipeline.events(deal, "invoice.posted")
    # The same events again (a relay re-send), and as new events (an upstream retry).
    again = [record_of("quote.accepted", accepted), record_of("order.confirmed", order)]
    retried_order_id = uuid.uuid4()
    retried = [
        record_of("quote.accepted", accepted.model_copy(update={"event_id": uuid.uuid4()})),
        record_of("order.confirmed", order.model_copy(update={"event_id": retried_order_id})),
    ]
    await publish(pipeline.endpoints.kafka, again + retried + again)
    await pipeline.events(deal, "order.rejected")  # the retried accept: order_exists
    await pipeline.reader.settle(3.0)
    assert (
        await pipeline.scalar(
            "SELECT count(*) FROM order_svc.orders WHERE quote_id = :q", q=accepted.payload.quote_id
        )
        == 1
    )
    assert (
        await pipeline.scalar(
            "SELECT count(*) FROM invoice_svc.invoices WHERE order_id = :o",
            o=order.payload.order_id,
        )
        == 1
    )
    # order_svc emitted no second order.confirmed (only the copies published above exist),
    # and invoice_svc posted exactly one invoice.
    confirmed_ids = {
        env.event_id
        for t, env in pipeline.all_events(deal)
        if env is not None and t == "order.confirmed"
    }
    assert confirmed_ids == {order.event_id, retried_order_id}
    kinds = [topic for topic, _ in pipeline.all_events(deal)]
    assert kinds.count("invoice.posted") == 1


async def test_an_expired_quote_is_refused(pipeline: Pipeline) -> None:
    lead = lead_of("expire")
    deal = lead.deal_id
    issued = await issued_quote(pipeline, lead)
    pipeline.stop("quote")
    # Past the 30-day validity; no ticks of its own, so the acceptance is what finds it expired.
    await pipeline.start("quote", SALESFLOW_CLOCK_OFFSET_DAYS="45", SALESFLOW_TICK_SECONDS="0")
    try:
        await accept(pipeline, deal, issued)
        (refusal,) = await pipeline.events(deal, "quote.rejected")
        assert refusal.payload.reason_code == "expired"
        (closed,) = await pipeline.events(deal, "quote.closed")
        assert closed.payload.status.value == "expired"
    finally:
        pipeline.stop("quote")
        await pipeline.start("quote")
    await pipeline.reader.settle(1.0)
    assert "quote.accepted" not in [t for t, _ in pipeline.all_events(deal)]


async def test_quote_accepted_from_an_outside_producer_while_quote_svc_is_down(
    pipeline: Pipeline,
) -> None:
    deal = f"crm-{new_run_id()}"
    currency = "EUR"
    lines = tuple(
        DocumentLine.priced(
            line_no=n,
            sku=sku,
            description=sku,
            quantity=Decimal(q),
            unit="each",
            unit_price=Decimal(price),
            discount_amount=Decimal(0),
            tax_rate=Decimal("0.19"),
            currency=currency,
        )
        for n, (sku, q, price) in enumerate((("EXT-1", "3", "100.00"), ("EXT-2", "1", "9.99")), 1)
    )
    totals = DocumentTotals.from_money(
        sum_totals([line.amounts(currency) for line in lines], currency)
    )
    pipeline.stop("quote")
    try:
        accepted = QuoteAccepted(
            quote_id=uuid.uuid4(),
            quote_number=f"CRM-{deal}",
            revision=1,
            opportunity_id=uuid.uuid4(),
            lead_id=deal,
            account_id=uuid.uuid4(),
            account_name="Outside Co",
            contact_id=uuid.uuid4(),
            contact=ContactInfo(
                first_name="Olga", last_name="Outside", email="olga@outside.example", phone=None
            ),
            price_list_id="CRM",
            currency=currency,
            lines=lines,
            totals=totals,
            payment_terms=PaymentTerms.NET_30,
            customer_po=None,
            accepted_at=datetime.now(UTC),
        )
        envelope = make_envelope(
            accepted,
            event_type="quote.accepted",
            deal_id=deal,
            producer="erp-crm",
            occurred_at=datetime.now(UTC),
        )
        await publish(pipeline.endpoints.kafka, [record_of("quote.accepted", envelope)])
        (order,) = await pipeline.events(deal, "order.confirmed")
        (invoice,) = await pipeline.events(deal, "invoice.posted")
        assert order.payload.totals == totals == invoice.payload.totals
    finally:
        await pipeline.start("quote")


async def test_external_invoicing_with_the_erp_invoice_before_its_order(pipeline: Pipeline) -> None:
    pipeline.stop("invoice")
    await pipeline.start("invoice", SALESFLOW_INVOICE_MODE="external")
    try:
        lead = lead_of("erp")
        deal = lead.deal_id
        issued = await issued_quote(pipeline, lead)
        # The ERP bills from its own copy of the quote: its invoice names the order id that
        # order_svc will mint, and reaches invoice.commands before order.confirmed is consumed.
        pipeline.stop("order")
        await accept(pipeline, deal, issued)
        (accepted,) = await pipeline.events(deal, "quote.accepted")
        order_id = await _order_id_for(pipeline, accepted)
        today = datetime.now(UTC).date()
        erp = RegisterExternalInvoice(
            external_invoice_id=f"ERP-{deal}",
            invoice_number=f"ERP-{deal}",
            order_id=order_id,
            currency=accepted.payload.currency,
            totals=accepted.payload.totals,
            issue_date=today,
            due_date=today + timedelta(days=30),
        )
        await publish(
            pipeline.endpoints.kafka,
            [record_of("invoice.commands", command(erp, "invoice.register_external", deal))],
        )
        deadline = time.monotonic() + 30
        while not await pipeline.scalar(
            "SELECT count(*) FROM invoice_svc.pending_external_invoices WHERE order_id = :o",
            o=order_id,
        ):
            assert time.monotonic() < deadline, "the early ERP invoice was not held"
            await asyncio.sleep(0.2)
        await pipeline.start("order")
        (order,) = await pipeline.events(deal, "order.confirmed")
        assert order.payload.order_id == order_id
        (posted,) = await pipeline.events(deal, "invoice.posted")
        assert posted.payload.source.value == "external"
        assert posted.payload.external_invoice_id == f"ERP-{deal}"
        assert posted.payload.totals == order.payload.totals
    finally:
        if "order" not in pipeline.workers:
            await pipeline.start("order")
        pipeline.stop("invoice")
        await pipeline.start("invoice")


async def _order_id_for(pipeline: Pipeline, accepted: Envelope[Any]) -> Any:
    """The order id order_svc mints for this quote (deterministic from the quote id)."""
    from services.order_svc.domain import order_id_for  # noqa: PLC0415 - test-only knowledge

    return order_id_for(accepted.payload.quote_id)
