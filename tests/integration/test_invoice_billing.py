"""invoice_svc bills as accounting does, on real Kafka and PostgreSQL: invoicing on delivery, a
down payment, partial ERP invoices, credit notes, cancellation after payment, the remainder of a
partly shipped order cancelled; and the receivable entries agree with the events.

The order events are published here as order_svc would (the e2e suite runs order_svc itself).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope, decode
from services.invoice_svc.domain import InvoicingMode
from services.invoice_svc.settings import InvoiceSettings
from tests.support.infra import Endpoints
from tests.support.invoices import (
    credit_invoice,
    order_cancelled,
    order_confirmed,
    order_fulfilled,
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
    "invoice.credit_applied",
    "refund.due",
)
WAIT_S = 120.0
GRAND = Decimal("333.10")  # the default order of tests.support.invoices


@pytest.fixture
async def db(endpoints: Endpoints) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(endpoints.database_url)
    yield engine
    await engine.dispose()


def _events(records: list[Any], deal: str) -> list[tuple[str, Any]]:
    return [
        (r.topic, decode(r.value).payload)
        for r in records
        if r.key == deal.encode() and r.topic in OUTCOMES
    ]


async def _send(endpoints: Endpoints, *messages: tuple[str, Envelope[Any]]) -> None:
    await publish(endpoints.kafka, [record_of(topic, env) for topic, env in messages])


async def _until(reader: TopicReader, deal: str, count: int) -> list[tuple[str, Any]]:
    records = await reader.collect(lambda rs: len(_events(rs, deal)) >= count, timeout_s=WAIT_S)
    return _events(records, deal)


async def _owed(db: AsyncEngine, account: UUID) -> tuple[Decimal, Decimal]:
    """(outstanding, customer credit held) of an account, from its receivable entries."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT coalesce(sum(amount), 0) AS owed, "
                    "coalesce(-sum(amount) FILTER (WHERE invoice_id IS NULL), 0) AS held "
                    "FROM invoice_svc.receivable_entries WHERE account_id = :a"
                ),
                {"a": account},
            )
        ).one()
    return Decimal(row.owed), Decimal(row.held)


def _sum(payloads: list[Any]) -> Decimal:
    return sum((p.totals.grand_total for p in payloads), Decimal(0))


async def test_native_billing_by_policy_credits_and_cancellations(
    endpoints: Endpoints, db: AsyncEngine
) -> None:
    run = new_run_id()
    delivery, down, line_credit, paid_then_cancelled, remainder = (
        f"bill-{name}-{run}" for name in ("delivery", "down", "credit", "paidcancel", "remainder")
    )
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(
            endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.NATIVE)
        ):
            # 1. Invoiced on delivery: one invoice per shipment, adding up to the order. (Each
            # step waits for the previous one: a shipment read before its order is billed when
            # the order arrives, together with any other shipment read ahead of it.)
            o1 = order_confirmed(delivery, policy=InvoicingPolicy.ON_DELIVERY)
            o1_id = o1.payload.order_id
            await _send(
                endpoints,
                ("order.confirmed", o1),
                ("order.fulfilled", order_fulfilled(delivery, o1_id, "S1", {1: ("10", "4")})),
            )
            await _until(reader, delivery, 1)
            await _send(
                endpoints,
                (
                    "order.fulfilled",
                    order_fulfilled(delivery, o1_id, "S2", {1: ("10", "10"), 2: ("3", "3")}),
                ),
            )
            shipments = await _until(reader, delivery, 2)
            assert [t for t, _ in shipments] == ["invoice.posted", "invoice.posted"]
            assert [line.quantity for line in shipments[0][1].lines] == [Decimal(4)]
            assert _sum([p for _, p in shipments]) == GRAND

            # 2. A 30 % down payment, paid, then deducted from the delivery invoice.
            o2 = order_confirmed(down, policy=InvoicingPolicy.DOWN_PAYMENT, down_payment_rate="0.3")
            await _send(endpoints, ("order.confirmed", o2))
            ((_, dp),) = await _until(reader, down, 1)
            assert dp.kind.value == "down_payment"
            await _send(
                endpoints,
                (
                    "invoice.commands",
                    record_payment(down, str(dp.totals.grand_total), invoice_id=dp.invoice_id),
                ),
            )
            await _until(reader, down, 2)
            await _send(
                endpoints,
                (
                    "order.fulfilled",
                    order_fulfilled(
                        down, o2.payload.order_id, "S1", {1: ("10", "10"), 2: ("3", "3")}
                    ),
                ),
            )
            events = await _until(reader, down, 5)
            final = next(p for t, p in events if t == "invoice.posted" and p.deductions)
            assert final.totals.grand_total == GRAND
            assert sum(d.total_amount for d in final.deductions) == dp.totals.grand_total
            applied = next(p for t, p in events if t == "invoice.credit_applied")
            assert applied.invoice_balance_due == GRAND - dp.totals.grand_total
            assert await _owed(db, o2.payload.account_id) == (
                GRAND - dp.totals.grand_total,
                Decimal(0),
            )

            # 3. A credit note for two units of line 1.
            o3 = order_confirmed(line_credit)
            await _send(endpoints, ("order.confirmed", o3))
            ((_, inv3),) = await _until(reader, line_credit, 1)
            await _send(
                endpoints,
                (
                    "invoice.commands",
                    credit_invoice(line_credit, inv3.invoice_id, lines=((1, "2"),)),
                ),
            )
            events = await _until(reader, line_credit, 2)
            note = next(p for t, p in events if t == "invoice.credited")
            assert [(x.line_no, x.quantity) for x in note.order_lines] == [(1, Decimal(2))]
            assert note.totals.grand_total == Decimal("45.22")  # 2 of 10 x 19.99 less 1.98, +19 %
            assert note.invoice_balance_due == GRAND - Decimal("45.22")

            # 4. Paid in full, then the order is cancelled: credited, and a refund due.
            o4 = order_confirmed(paid_then_cancelled)
            await _send(endpoints, ("order.confirmed", o4))
            ((_, inv4),) = await _until(reader, paid_then_cancelled, 1)
            await _send(
                endpoints,
                (
                    "invoice.commands",
                    record_payment(paid_then_cancelled, str(GRAND), invoice_id=inv4.invoice_id),
                ),
                ("order.cancelled", order_cancelled(paid_then_cancelled, o4.payload.order_id)),
            )
            events = await _until(reader, paid_then_cancelled, 5)
            assert sorted(t for t, _ in events) == [
                "invoice.cancelled",
                "invoice.credited",
                "invoice.paid",
                "invoice.posted",
                "refund.due",
            ]
            due = next(p for t, p in events if t == "refund.due")
            assert (due.amount, due.credit_balance) == (GRAND, GRAND)
            assert await _owed(db, o4.payload.account_id) == (-GRAND, GRAND)

            # 5. Billed in full, 4 of 10 of line 1 shipped, the rest cancelled: 6 credited.
            o5 = order_confirmed(remainder)
            o5_id = o5.payload.order_id
            shipped = {1: ("10", "4"), 2: ("3", "3")}
            await _send(endpoints, ("order.confirmed", o5))
            await _until(reader, remainder, 1)
            await _send(
                endpoints,
                ("order.fulfilled", order_fulfilled(remainder, o5_id, "S1", shipped)),
                ("order.cancelled", order_cancelled(remainder, o5_id, shipped=shipped)),
            )
            events = await _until(reader, remainder, 2)
            assert sorted(t for t, _ in events) == ["invoice.credited", "invoice.posted"]
            credit = next(p for t, p in events if t == "invoice.credited")
            assert [(x.line_no, x.quantity) for x in credit.order_lines] == [(1, Decimal(6))]
            assert credit.invoice_balance_due == GRAND - credit.totals.grand_total
    finally:
        await reader.stop()
    await _assert_numbers_gap_free(db)


async def test_several_erp_invoices_bill_one_order_one_arriving_first(
    endpoints: Endpoints, db: AsyncEngine
) -> None:
    run = new_run_id()
    deal = f"erp-parts-{run}"
    order = order_confirmed(deal)
    order_id = order.payload.order_id
    lines = priced_lines()
    first_lines = ((1, "4"),)
    first_totals = totals_of((lines[0].model_copy(update={"quantity": Decimal(4)}),)).model_copy(
        update={
            "subtotal": Decimal("79.96"),
            "discount_total": Decimal("3.96"),
            "net_total": Decimal("76.00"),
            "tax_total": Decimal("14.44"),
            "grand_total": Decimal("90.44"),
        }
    )
    rest_totals = totals_of(lines).model_copy(
        update={
            "subtotal": Decimal("219.94"),
            "discount_total": Decimal("5.94"),
            "net_total": Decimal("214.00"),
            "tax_total": Decimal("28.66"),
            "grand_total": Decimal("242.66"),
        }
    )
    first = register_external(
        deal, order_id, f"ERP-1-{run}", totals=first_totals, lines=first_lines
    )
    rest = register_external(
        deal, order_id, f"ERP-2-{run}", totals=rest_totals, lines=((1, "6"), (2, "3"))
    )
    too_much = register_external(
        deal, order_id, f"ERP-3-{run}", totals=first_totals, lines=first_lines
    )
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(
            endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.EXTERNAL)
        ):
            # The first ERP invoice races ahead of its order (held), the second follows it.
            await _send(endpoints, ("invoice.commands", first))
            await _send(
                endpoints,
                ("order.confirmed", order),
                ("invoice.commands", rest),
                ("invoice.commands", too_much),
            )
            events = await _until(reader, deal, 3)
    finally:
        await reader.stop()
    # Two topics: the reader sees them in no fixed order relative to each other.
    assert sorted(t for t, _ in events) == ["invoice.posted", "invoice.posted", "invoice.rejected"]
    posted = [p for t, p in events if t == "invoice.posted"]
    assert [p.external_invoice_id for p in posted] == [f"ERP-1-{run}", f"ERP-2-{run}"]
    assert _sum(posted) == GRAND
    (refused,) = [p for t, p in events if t == "invoice.rejected"]
    assert refused.reason_code == "over_billing"
    assert refused.command_event_id == too_much.event_id
    assert "line 1" in refused.detail
    assert await _owed(db, order.payload.account_id) == (GRAND, Decimal(0))


_NUMBER = re.compile(r"^.+-(\d{4})-(\d{6,})$")


async def _assert_numbers_gap_free(db: AsyncEngine) -> None:
    """Native invoice numbers and credit note numbers: each its own 1..counter per year."""
    async with db.connect() as conn:
        for table, column, counters in (
            ("invoices", "invoice_number", "invoice_counters"),
            ("credit_notes", "credit_note_number", "credit_note_counters"),
        ):
            rows = await conn.execute(
                text(
                    f"SELECT {column} FROM invoice_svc.{table} WHERE source = 'native'"  # noqa: S608 - constant names
                )
            )
            seen: dict[int, list[int]] = {}
            for (number,) in rows:
                match = _NUMBER.match(number)
                assert match, number
                seen.setdefault(int(match[1]), []).append(int(match[2]))
            found = await conn.execute(text(f"SELECT year, last FROM invoice_svc.{counters}"))  # noqa: S608 - constant names
            last = {int(year): int(n) for year, n in found}
            for year, numbers in seen.items():
                assert sorted(numbers) == list(range(1, last[year] + 1)), (table, year)
