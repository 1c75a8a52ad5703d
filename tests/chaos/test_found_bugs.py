"""Regression tests for the runtime bugs the chaos harness found (see RELIABILITY.md).

invoice_svc read an order.cancelled before its order.confirmed (another topic, read first after a
restart), dropped it, then invoiced the cancelled order. The cancellation is now kept ahead of
its order, across batches, and applied when the confirmation arrives; on the real database the
two messages about one order are serialised by an advisory lock. Read in order, the invoice is
posted, then credited in full by a credit note (a posted invoice is never voided).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import Envelope, decode
from contracts.topics import topic_for_event
from services.invoice_svc.domain import InvoiceCounter, InvoicingMode, InvoicingPolicy
from services.invoice_svc.handlers import HANDLERS, touches_of
from services.invoice_svc.store import InvoiceBook, InvoiceStore
from shared.messages import Incoming
from shared.stage import HandlerStage
from tests.support.infra import Endpoints
from tests.support.invoices import order_cancelled, order_confirmed
from tests.support.leads import new_run_id

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NATIVE = InvoicingPolicy(InvoicingMode.NATIVE, "INV")


def incoming(envelope: Envelope[Any], offset: int = 0) -> Incoming[Any]:
    return Incoming(envelope, topic_for_event(envelope.event_type).name, 0, offset)


def new_book() -> InvoiceBook:
    """A book whose batch locked the year's invoice and credit note counters."""
    return InvoiceBook(
        counters={2026: InvoiceCounter(2026, 0)}, credit_counters={2026: InvoiceCounter(2026, 0)}
    )


def handle(book: InvoiceBook, envelope: Envelope[Any]) -> list[str]:
    out = HANDLERS[envelope.event_type](book, incoming(envelope), NATIVE, NOW)
    return [decode(o.payload or b"").event_type for o in out]


def test_a_cancellation_read_first_is_applied_when_its_order_arrives() -> None:
    confirmed = order_confirmed("deal-ahead")
    order_id = confirmed.payload.order_id
    book = new_book()
    assert handle(book, order_cancelled("deal-ahead", order_id)) == []
    assert order_id in book.new_cancelled_ahead
    assert handle(book, confirmed) == []  # no invoice.posted
    order = book.order(order_id)
    assert order is not None and order.cancelled
    assert book.invoices_of_order(order_id) == []
    # Kept and applied within one batch: nothing to write to or delete from the table.
    assert not book.new_cancelled_ahead and not book.applied_cancelled_ahead


def test_a_cancellation_kept_by_an_earlier_batch_is_consumed() -> None:
    confirmed = order_confirmed("deal-ahead-2")
    order_id = confirmed.payload.order_id
    book = new_book()
    book.cancelled_ahead[order_id] = ("deal-ahead-2", "customer withdrew", NOW, {})
    assert handle(book, confirmed) == []
    assert book.applied_cancelled_ahead == {order_id}


def test_an_order_confirmed_first_is_still_invoiced_then_credited() -> None:
    confirmed = order_confirmed("deal-in-order")
    book = new_book()
    assert handle(book, confirmed) == ["invoice.posted"]
    cancelled = order_cancelled("deal-in-order", confirmed.payload.order_id)
    assert handle(book, cancelled) == ["invoice.credited", "invoice.cancelled"]


@pytest.mark.integration
async def test_the_cancellation_survives_between_transactions(endpoints: Endpoints) -> None:
    deal = f"ahead-{new_run_id()}"
    confirmed = order_confirmed(deal, order_id=uuid4())
    order_id = confirmed.payload.order_id
    stage = HandlerStage(HANDLERS, touches_of, InvoiceStore(), NATIVE)
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.begin() as conn:
            out = await stage.apply(conn, [incoming(order_cancelled(deal, order_id), 1)], NOW)
        assert out == []
        # Two transactions about the same order at once: the second waits for the first.
        async with engine.begin() as first, engine.begin() as second:
            await first.execute(
                text("SELECT pg_advisory_xact_lock(:k)"),
                {"k": int.from_bytes(order_id.bytes[:8], "big", signed=True)},
            )
            waiting = asyncio.create_task(stage.apply(second, [incoming(confirmed, 2)], NOW))
            await asyncio.sleep(0.5)
            assert not waiting.done(), "the confirmation did not wait for the order's lock"
            await first.commit()
            out = await waiting
        assert out == []  # no invoice for the cancelled order
        async with engine.connect() as conn:
            state = await conn.scalar(
                text("SELECT state FROM invoice_svc.orders WHERE order_id = :o"), {"o": order_id}
            )
            invoices = await conn.scalar(
                text("SELECT count(*) FROM invoice_svc.invoices WHERE order_id = :o"),
                {"o": order_id},
            )
            kept = await conn.scalar(
                text("SELECT count(*) FROM invoice_svc.cancelled_ahead WHERE order_id = :o"),
                {"o": order_id},
            )
        assert (state, invoices, kept) == ("cancelled", 0, 0)
    finally:
        await engine.dispose()
