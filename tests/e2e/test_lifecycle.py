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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.envelope import Envelope, decode, make_envelope
from contracts.invoices import RecordPayment, RegisterExternalInvoice
from contracts.leads import ContactInfo
from contracts.money import sum_totals
from contracts.orders import CancelOrder
from contracts.quotes import AcceptQuote, QuoteAccepted, QuoteLineInput, ReviseQuote
from salesflow.catalog import load_price_list, wait_until_quote_svc_holds
from simulator.driver import WATCHED
from tests.support.infra import REPO, Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.e2e

PEOPLE = "e2e-people"


@dataclass
class Pipeline:
    endpoints: Endpoints
    logs: Path
    reader: TopicReader
    engine: AsyncEngine
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    async def start(self, stage: str, **env: str) -> None:
        log = self.logs / f"{stage}-{len(list(self.logs.iterdir()))}.log"
        worker = WorkerProcess(stage, self.endpoints, log, **env).start()
        self.workers[stage] = worker
        await worker.wait_ready()

    def stop(self, stage: str) -> None:
        worker = self.workers.pop(stage)
        assert worker.terminate() == 0, worker.tail()

    async def events(
        self,
        deal: str,
        event_type: str,
        count: int = 1,
        timeout_s: float = 60.0,
        where: Callable[[Envelope[Any]], bool] = lambda _: True,
    ) -> list[Envelope[Any]]:
        """Wait until `count` events of `event_type` for `deal` were published."""

        def matching(records: list[Any]) -> list[Envelope[Any]]:
            found = []
            for r in records:
                if r.key != deal.encode() or r.topic.endswith(".dlq"):
                    continue
                env = decode(r.value)
                if env.event_type == event_type and where(env):
                    found.append(env)
            return found

        await self.reader.collect(lambda rs: len(matching(rs)) >= count, timeout_s=timeout_s)
        found = matching(self.reader.records)
        assert len(found) >= count, (
            f"{deal}: {len(found)}/{count} {event_type}; saw "
            f"{[(r.topic) for r in self.reader.records if r.key == deal.encode()]}"
        )
        return found

    def all_events(self, deal: str) -> list[tuple[str, Envelope[Any] | None]]:
        return [
            (r.topic, None if r.topic.endswith(".dlq") else decode(r.value))
            for r in self.reader.records
            if r.key == deal.encode()
        ]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()


@pytest.fixture(scope="module")
async def pipeline(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    reader = await TopicReader(endpoints.kafka, WATCHED).start()
    engine = create_async_engine(endpoints.database_url)
    pipe = Pipeline(endpoints, tmp_path_factory.mktemp("workers"), reader, engine)
    try:
        for stage in ("lead", "quote", "order", "invoice"):
            await pipe.start(stage)
        items = await load_price_list(endpoints.kafka, REPO / "samples" / "price_list.csv")
        await wait_until_quote_svc_holds(endpoints.database_url, items)
        yield pipe
    finally:
        for stage in list(pipe.workers):
            pipe.stop(stage)
        await reader.stop()
        await engine.dispose()


def _lead(tag: str, **kwargs: Any) -> Envelope[Any]:
    return captured(
        f"{tag}-{new_run_id()}", interests=(("SKU-1001", "10"), ("SKU-2001", "3")), **kwargs
    )


def _command(payload: Any, event_type: str, deal: str) -> Envelope[Any]:
    return make_envelope(
        payload, event_type=event_type, deal_id=deal, producer=PEOPLE, occurred_at=datetime.now(UTC)
    )


async def _issued_quote(pipe: Pipeline, lead: Envelope[Any]) -> Envelope[Any]:
    await publish(pipe.endpoints.kafka, [record_of("lead.captured", lead)])
    await pipe.events(lead.deal_id, "lead.qualified")
    (issued,) = await pipe.events(lead.deal_id, "quote.issued")
    return issued


async def _accept(pipe: Pipeline, deal: str, quote: Envelope[Any]) -> None:
    accept = AcceptQuote(quote_id=quote.payload.quote_id, accepted_by="buyer", customer_po="PO-7")
    await publish(
        pipe.endpoints.kafka, [record_of("quote.commands", _command(accept, "quote.accept", deal))]
    )


async def _pay(pipe: Pipeline, deal: str, invoice: Envelope[Any], amount: Decimal, n: int) -> None:
    p = invoice.payload
    pay = RecordPayment(
        payment_id=f"PAY-{p.invoice_number}-{n}",
        invoice_id=p.invoice_id,
        external_invoice_id=None,
        amount=amount,
        currency=p.currency,
        paid_at=datetime.now(UTC),
        method="bank_transfer",
    )
    await publish(
        pipe.endpoints.kafka,
        [record_of("invoice.commands", _command(pay, "invoice.record_payment", deal))],
    )


async def test_a_lead_becomes_a_paid_invoice(pipeline: Pipeline) -> None:
    lead = _lead("paid")
    deal = lead.deal_id
    issued = await _issued_quote(pipeline, lead)
    # SKU-1001 19.99 x 10 and SKU-2001 from the sample list, 19 % tax: priced, then totals.
    assert [line.sku for line in issued.payload.lines] == ["SKU-1001", "SKU-2001"]
    await _accept(pipeline, deal, issued)
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
    await _pay(pipeline, deal, invoice, part, 1)
    await pipeline.events(deal, "invoice.paid")
    await _pay(pipeline, deal, invoice, total - part, 2)
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
    lead = _lead("revise")
    deal = lead.deal_id
    first = await _issued_quote(pipeline, lead)
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
        [record_of("quote.commands", _command(revise, "quote.revise", deal))],
    )
    (closed,) = await pipeline.events(deal, "quote.closed")
    assert closed.payload.status.value == "revised"
    issued = await pipeline.events(deal, "quote.issued", count=2)
    second = issued[-1]
    assert second.payload.revision == 2
    assert second.payload.quote_number == first.payload.quote_number
    assert second.payload.lines[0].discount_amount == Decimal("10.00")
    await _accept(pipeline, deal, second)
    (order,) = await pipeline.events(deal, "order.confirmed")
    assert order.payload.totals == second.payload.totals
    assert order.payload.quote_id == second.payload.quote_id


async def test_a_cancellation_cancels_its_unpaid_invoice(pipeline: Pipeline) -> None:
    lead = _lead("cancel")
    deal = lead.deal_id
    await _accept(pipeline, deal, await _issued_quote(pipeline, lead))
    (order,) = await pipeline.events(deal, "order.confirmed")
    (invoice,) = await pipeline.events(deal, "invoice.posted")
    cancel = CancelOrder(
        order_id=order.payload.order_id, reason="customer withdrew", requested_by="rep"
    )
    await publish(
        pipeline.endpoints.kafka,
        [record_of("order.commands", _command(cancel, "order.cancel", deal))],
    )
    await pipeline.events(deal, "order.cancelled")
    (void,) = await pipeline.events(deal, "invoice.cancelled")
    assert void.payload.invoice_id == invoice.payload.invoice_id


async def test_duplicate_deliveries_give_one_order_and_one_invoice(pipeline: Pipeline) -> None:
    lead = _lead("dups")
    deal = lead.deal_id
    await _accept(pipeline, deal, await _issued_quote(pipeline, lead))
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
    lead = _lead("expire")
    deal = lead.deal_id
    issued = await _issued_quote(pipeline, lead)
    pipeline.stop("quote")
    await pipeline.start("quote", SALESFLOW_CLOCK_OFFSET_DAYS="45")  # past the 30-day validity
    try:
        await _accept(pipeline, deal, issued)
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
        lead = _lead("erp")
        deal = lead.deal_id
        issued = await _issued_quote(pipeline, lead)
        # The ERP bills from its own copy of the quote: its invoice names the order id that
        # order_svc will mint, and reaches invoice.commands before order.confirmed is consumed.
        pipeline.stop("order")
        await _accept(pipeline, deal, issued)
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
            [record_of("invoice.commands", _command(erp, "invoice.register_external", deal))],
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
