"""Customers and the ERP on real Kafka and PostgreSQL, the workers in this process: master data
from lead_svc (account.updated) reaches the next quote and the order made from it with full
addresses; the ERP acknowledges one order and refuses another, which is resubmitted corrected;
an ERP invoice names its order by the ERP's order number, and a payment names it the same way
(both read before the acknowledgement: held, then posted and paid); an acknowledgement, an ERP
invoice and its payment read ahead of their order wait for it.

Each test prices from its own price list and filters outcomes by its own deal ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import Envelope, decode
from salesflow.tracing import deal_of
from services.invoice_svc.domain import InvoicingMode
from services.invoice_svc.settings import InvoiceSettings
from services.quote_svc.domain import quote_id_for
from services.quote_svc.settings import QuoteSettings
from tests.support import invoices as bills
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.orders import accepted, acknowledge, refuse, resubmit
from tests.support.parties import account_details, address, customer_details
from tests.support.quotes import (
    accept,
    account_updated,
    line,
    price,
    price_record,
    qualified,
    revise,
)
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

OUTCOMES = (
    "quote.issued",
    "quote.accepted",
    "quote.rejected",
    "order.confirmed",
    "order.acknowledged",
    "order.refused",
    "order.resubmitted",
    "order.rejected",
    "invoice.posted",
    "invoice.paid",
    "invoice.rejected",
)
OFFICE = address("1 Counting House Lane")
WAREHOUSE = address("7 Dock Road", "Hamburg", "DE")
WAIT_S = 90.0


def _events(records: list[Any], deal: str, topic: str) -> list[Envelope[Any]]:
    return [decode(r.value) for r in records if r.key == deal.encode() and r.topic == topic]


async def _wait(reader: TopicReader, deal: str, topic: str, count: int = 1) -> list[Envelope[Any]]:
    records = await reader.collect(
        lambda rs: len(_events(rs, deal, topic)) >= count, timeout_s=WAIT_S
    )
    found = _events(records, deal, topic)
    assert len(found) >= count, f"{deal}: {len(found)} of {count} {topic}"
    return found


async def _rows(endpoints: Endpoints, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(sql), params))
    finally:
        await engine.dispose()


async def _poll(
    endpoints: Endpoints, sql: str, want: Callable[[list[Any]], bool], what: str, **params: Any
) -> list[Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        rows = await _rows(endpoints, sql, **params)
        if want(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {rows}")
        await asyncio.sleep(0.1)


async def _account_at(endpoints: Endpoints, account_id: UUID, version: int) -> None:
    await _poll(
        endpoints,
        "SELECT version FROM quote_svc.accounts WHERE account_id = :a",
        lambda rows: bool(rows) and rows[0].version == version,
        f"account {account_id} at version {version}",
        a=account_id,
    )


async def test_an_erp_ship_to_change_reaches_the_next_quote_and_its_order_in_full(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    pl, deal, account_id = f"PL-{run}", f"cust-{run}", uuid4()
    erp_details = account_details(legal_name=f"Analytical Engines {run} Ltd", ship_to=OFFICE)
    lead = qualified(deal, interests=(("SKU-1001", "3"),), account_id=account_id)
    first = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with (
            running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)),
            running_worker(endpoints, "order"),
        ):
            await publish(
                endpoints.kafka,
                [
                    price_record(price("SKU-1001", "19.99", price_list_id=pl)),
                    # As lead_svc publishes master data: keyed by the account, on its topic.
                    record_of("account.updated", account_updated(account_id, 1, erp_details)),
                ],
            )
            await _account_at(endpoints, account_id, 1)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            [issued] = await _wait(reader, deal, "quote.issued")

            # The ERP changes the ship-to; lead_svc publishes the account's new version.
            moved = erp_details.model_copy(update={"ship_to": WAREHOUSE})
            await publish(
                endpoints.kafka,
                [record_of("account.updated", account_updated(account_id, 2, moved))],
            )
            await _account_at(endpoints, account_id, 2)
            second = quote_id_for(lead.payload.opportunity_id, 2)
            await publish(
                endpoints.kafka,
                [record_of("quote.commands", revise(deal, first, line("SKU-1001", "4")))],
            )
            revised = (await _wait(reader, deal, "quote.issued", 2))[1]
            await publish(
                endpoints.kafka,
                [
                    record_of(
                        "quote.commands",
                        accept(
                            deal,
                            second,
                            requested_delivery_date=date(2026, 12, 15),
                            shipping_method="express",
                        ),
                    )
                ],
            )
            [quote_accepted] = await _wait(reader, deal, "quote.accepted")
            [confirmed] = await _wait(reader, deal, "order.confirmed")
    finally:
        await reader.stop()

    assert issued.payload.customer_details.ship_to == OFFICE
    assert revised.payload.customer_details.ship_to == WAREHOUSE
    assert quote_accepted.payload.customer_details == revised.payload.customer_details
    order = confirmed.payload
    details = order.customer_details
    assert details.account_id == account_id
    assert details.sold_to == f"Analytical Engines {run} Ltd"
    assert (details.bill_to, details.ship_to) == (OFFICE, WAREHOUSE)
    assert details.bill_to.lines == ("1 Counting House Lane",)
    assert (details.tax_id, details.erp_customer_number) == ("GB123456789", "C-10042")
    assert (order.requested_delivery_date, order.shipping_method) == (date(2026, 12, 15), "express")
    [row] = await _rows(
        endpoints,
        "SELECT customer_details, requested_delivery_date, shipping_method, state "
        "FROM order_svc.orders WHERE deal_id = :d",
        d=deal,
    )
    assert row.customer_details["ship_to"]["city"] == "Hamburg"
    assert row.customer_details["bill_to"]["postal_code"] == "EC1A 1BB"
    assert (row.requested_delivery_date, row.shipping_method, row.state) == (
        date(2026, 12, 15),
        "express",
        "submitted",
    )
    [quote_row] = await _rows(
        endpoints,
        "SELECT customer_details FROM quote_svc.quotes WHERE quote_id = :q",
        q=second,
    )
    assert quote_row.customer_details["ship_to"]["country"] == "DE"


async def test_the_erp_acknowledges_one_order_refuses_another_and_bills_by_its_own_number(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    booked_deal, refused_deal, erp_number = f"ack-{run}", f"ref-{run}", f"ERP-{run}"
    # The account id the builder gives the deal's quote.
    account_id = uuid5(NAMESPACE_URL, f"account:{booked_deal}")
    booked = accepted(booked_deal, customer_details=customer_details(account_id))
    declined = accepted(refused_deal)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with (
            running_worker(endpoints, "order"),
            running_worker(
                endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.EXTERNAL)
            ),
        ):
            await publish(
                endpoints.kafka,
                [record_of("quote.accepted", booked), record_of("quote.accepted", declined)],
            )
            [first] = await _wait(reader, booked_deal, "order.confirmed")
            [second] = await _wait(reader, refused_deal, "order.confirmed")
            order, other = first.payload, second.payload

            # The ERP's invoice comes before its acknowledgement: held under the ERP's number.
            erp_invoice = bills.register_external(
                booked_deal,
                None,
                f"EXT-{run}",
                totals=booked.payload.totals,
                erp_order_number=erp_number,
            )
            await publish(endpoints.kafka, [record_of("invoice.commands", erp_invoice)])
            # And its payment, without waiting for invoice.posted (review of issue 11,
            # finding 1): read before the acknowledgement too, it is held, not refused.
            payment = bills.record_payment(
                booked_deal, str(booked.payload.totals.grand_total), erp_order_number=erp_number
            )
            await publish(endpoints.kafka, [record_of("invoice.commands", payment)])
            await _poll(
                endpoints,
                "SELECT (SELECT count(*) FROM invoice_svc.pending_external_invoices "
                "WHERE erp_order_number = :n) + (SELECT count(*) FROM invoice_svc.held_payments "
                "WHERE erp_order_number = :n) AS waiting",
                lambda rows: rows[0].waiting == 2,
                "the ERP invoice and its payment held",
                n=erp_number,
            )
            await publish(
                endpoints.kafka,
                [
                    record_of(
                        "order.commands",
                        acknowledge(booked_deal, erp_number, order_number=order.order_number),
                    ),
                    record_of("order.commands", refuse(refused_deal, order_id=other.order_id)),
                ],
            )
            [acknowledged] = await _wait(reader, booked_deal, "order.acknowledged")
            [posted] = await _wait(reader, booked_deal, "invoice.posted")
            [paid] = await _wait(reader, booked_deal, "invoice.paid")
            [refused] = await _wait(reader, refused_deal, "order.refused")
            await _poll(
                endpoints,
                "SELECT state FROM order_svc.orders WHERE order_id = :o",
                lambda rows: [r.state for r in rows] == ["refused_by_erp"],
                "the refused order",
                o=other.order_id,
            )
            correction = resubmit(
                refused_deal, other.order_id, ship_to=WAREHOUSE, customer_po=f"PO-{run}-A"
            )
            await publish(endpoints.kafka, [record_of("order.commands", correction)])
            [resubmitted] = await _wait(reader, refused_deal, "order.resubmitted")
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    assert acknowledged.payload.erp_order_number == erp_number
    assert (posted.payload.order_id, posted.payload.external_invoice_id) == (
        order.order_id,
        f"EXT-{run}",
    )
    assert posted.payload.customer_details == order.customer_details
    assert posted.payload.customer_details.ship_to == address()
    assert posted.payload.customer_po == order.customer_po
    assert (paid.payload.invoice_id, paid.payload.balance_due) == (
        posted.payload.invoice_id,
        Decimal("0.00"),
    )
    assert paid.payload.payment_id == payment.payload.payment_id
    assert refused.payload.reason_code == "unknown_ship_to"
    document = resubmitted.payload
    assert (document.order_id, document.order_number) == (other.order_id, other.order_number)
    assert document.customer_details.ship_to == WAREHOUSE
    assert document.customer_po == f"PO-{run}-A"
    assert (document.lines, document.totals) == (other.lines, other.totals)
    for deal in (booked_deal, refused_deal):
        assert _events(records, deal, "order.rejected") == []
        assert _events(records, deal, "invoice.rejected") == []
    # Acknowledged, then invoiced in full by the ERP's invoice (order_svc reads invoice.posted).
    rows = await _poll(
        endpoints,
        "SELECT deal_id, state, erp_order_number, erp_refusal_code, customer_po "
        "FROM order_svc.orders WHERE deal_id = ANY(:d) ORDER BY deal_id",
        lambda rows: [r.state for r in rows] == ["invoiced", "submitted"],
        "the orders invoiced and resubmitted",
        d=[booked_deal, refused_deal],
    )
    assert [tuple(r) for r in rows] == [
        (booked_deal, "invoiced", erp_number, None, "PO 4711/2026"),
        (refused_deal, "submitted", None, None, f"PO-{run}-A"),
    ]
    [kept] = await _rows(
        endpoints,
        "SELECT erp_order_number, customer_po FROM invoice_svc.orders WHERE order_id = :o",
        o=order.order_id,
    )
    assert tuple(kept) == (erp_number, "PO 4711/2026")
    # `salesflow trace` finds the deal by the ERP's number as by salesflow's.
    for ref in (erp_number, order.order_number):
        deal, how = await deal_of(endpoints.database_url, ref)
        assert deal == booked_deal
        assert how == f"order {order.order_number}, ERP order {erp_number}"
    assert await deal_of(endpoints.database_url, f"nothing-{run}") == (f"nothing-{run}", None)
    for table in ("pending_external_invoices", "held_payments"):
        assert (
            await _rows(
                endpoints,
                f"SELECT 1 FROM invoice_svc.{table} WHERE erp_order_number = :n",  # noqa: S608 - a constant table name
                n=erp_number,
            )
            == []
        )


async def test_an_acknowledgement_and_an_erp_invoice_read_ahead_of_their_order_wait_for_it(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    deal, erp_number = f"ahead-{run}", f"ERP-{run}"
    order = bills.order_confirmed(deal, customer_po=f"PO-{run}")
    order_id = order.payload.order_id
    erp_invoice = bills.register_external(
        deal, None, f"EXT-{run}", totals=order.payload.totals, erp_order_number=erp_number
    )
    # The payment names the ERP invoice, held itself: held behind it.
    payment = bills.record_payment(
        deal, str(order.payload.totals.grand_total), external_invoice_id=f"EXT-{run}"
    )
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(
            endpoints, "invoice", settings=InvoiceSettings(mode=InvoicingMode.EXTERNAL)
        ):
            await publish(
                endpoints.kafka,
                [
                    record_of(
                        "order.acknowledged", bills.order_acknowledged(deal, order_id, erp_number)
                    ),
                    record_of("invoice.commands", erp_invoice),
                    record_of("invoice.commands", payment),
                ],
            )
            await _poll(
                endpoints,
                "SELECT (SELECT count(*) FROM invoice_svc.acknowledged_ahead WHERE order_id = :o) "
                "+ (SELECT count(*) FROM invoice_svc.pending_external_invoices "
                "WHERE erp_order_number = :n) + (SELECT count(*) FROM invoice_svc.held_payments "
                "WHERE external_invoice_ids @> ARRAY[:e]) AS waiting",
                lambda rows: rows[0].waiting == 3,
                "the acknowledgement, the ERP invoice and its payment kept",
                o=order_id,
                n=erp_number,
                e=f"EXT-{run}",
            )
            await publish(endpoints.kafka, [record_of("order.confirmed", order)])
            [posted] = await _wait(reader, deal, "invoice.posted")
            [paid] = await _wait(reader, deal, "invoice.paid")
    finally:
        await reader.stop()

    assert (posted.payload.order_id, posted.payload.customer_po) == (order_id, f"PO-{run}")
    assert (paid.payload.invoice_id, paid.payload.balance_due) == (
        posted.payload.invoice_id,
        Decimal("0.00"),
    )
    assert (
        await _rows(
            endpoints,
            "SELECT 1 FROM invoice_svc.held_payments WHERE payment_id = :p",
            p=payment.payload.payment_id,
        )
        == []
    )
    [kept] = await _rows(
        endpoints,
        "SELECT erp_order_number FROM invoice_svc.orders WHERE order_id = :o",
        o=order_id,
    )
    assert kept.erp_order_number == erp_number
    waiting = await _rows(
        endpoints,
        "SELECT 1 FROM invoice_svc.acknowledged_ahead WHERE order_id = :o",
        o=order_id,
    )
    assert waiting == []
