"""quote_svc on real Kafka and PostgreSQL, in this process: prices, issue, revise, accept,
expire, reject, refusals and duplicate delivery.

Every test prices from its own price list (`PL-<run>`), so tests never see each other's prices
on the shared compacted topic, and filters outcomes by its own deal ids.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import Envelope, decode
from salesflow.catalog import load_price_list
from services.quote_svc.domain import quote_id_for
from services.quote_svc.settings import QuoteSettings
from shared.ticker import publish_tick
from tests.support.infra import REPO, Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import new_run_id
from tests.support.quotes import accept, line, price, price_record, qualified, reject, revise
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

OUTCOMES = (
    "quote.issued",
    "quote.accepted",
    "quote.closed",
    "opportunity.closed",
    "quote.rejected",
)


def _events(records: list[Any], deal: str) -> list[tuple[str, Envelope[Any]]]:
    return [(r.topic, decode(r.value)) for r in records if r.key == deal.encode()]


def _by_topic(records: list[Any], deal: str) -> dict[str, list[Envelope[Any]]]:
    """A deal's events per topic: Kafka orders a deal's events within a topic, not across."""
    grouped: dict[str, list[Envelope[Any]]] = {}
    for topic, envelope in _events(records, deal):
        grouped.setdefault(topic, []).append(envelope)
    return grouped


def _counts(grouped: dict[str, list[Envelope[Any]]]) -> dict[str, int]:
    return {topic: len(envelopes) for topic, envelopes in grouped.items()}


def _topics(records: list[Any], deal: str) -> list[str]:
    return [t for t, _ in _events(records, deal)]


async def _rows(endpoints: Endpoints, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(sql), params))
    finally:
        await engine.dispose()


async def _poll(endpoints: Endpoints, sql: str, want: Any, what: str, **params: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        rows = await _rows(endpoints, sql, **params)
        if want(rows):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {rows}")
        await asyncio.sleep(0.1)


async def _stock(endpoints: Endpoints, price_list_id: str) -> None:
    """Publish the run's price list and wait until the worker has stored all of it."""
    items = [
        price("SKU-1001", "19.99", price_list_id=price_list_id),
        price("SKU-3005", "14.95", tax_rate="0.07", price_list_id=price_list_id),
        price("SKU-4000", "95.00", price_list_id=price_list_id),
    ]
    await publish(endpoints.kafka, [price_record(e) for e in items])
    await _poll(
        endpoints,
        "SELECT sku FROM quote_svc.price_list_items WHERE price_list_id = :pl",
        lambda rows: len(rows) == len(items),
        f"price list {price_list_id} stored",
        pl=price_list_id,
    )


def _quote_state_sql() -> str:
    return (
        "SELECT q.revision, q.state, q.status_reason, o.state AS opp_state, "
        "o.status_reason AS opp_reason, o.actual_revenue FROM quote_svc.quotes q "
        "JOIN quote_svc.opportunities o USING (opportunity_id) WHERE o.lead_id = :lead "
        "ORDER BY q.revision"
    )


async def test_known_skus_are_issued_then_accepted_and_a_second_accept_refused(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-ok-{run}"
    lead = qualified(deal, interests=(("SKU-1001", "3"), ("SKU-3005", "7")))
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)):
            await _stock(endpoints, pl)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            await reader.collect(lambda rs: _topics(rs, deal) == ["quote.issued"])
            await publish(
                endpoints.kafka,
                [
                    record_of("quote.commands", accept(deal, quote_id, po="PO 4711")),
                    record_of("quote.commands", accept(deal, quote_id)),
                ],
            )
            await reader.collect(lambda rs: len(_events(rs, deal)) >= 4)
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    events = _by_topic(records, deal)
    assert _counts(events) == dict.fromkeys(
        ("quote.issued", "quote.accepted", "opportunity.closed", "quote.rejected"), 1
    )
    issued = events["quote.issued"][0]
    assert issued.causation_id == lead.event_id
    assert issued.payload.quote_id == quote_id
    assert issued.payload.price_list_id == pl
    assert issued.payload.quote_number.startswith("Q-")
    t = issued.payload.totals
    assert (t.net_total, t.tax_total, t.grand_total) == (
        Decimal("164.62"),
        Decimal("18.72"),
        Decimal("183.34"),
    )
    accepted = events["quote.accepted"][0].payload
    assert accepted.customer_po == "PO 4711"
    assert accepted.lines == issued.payload.lines and accepted.totals == t
    won = events["opportunity.closed"][0].payload
    assert (won.outcome.value, won.actual_revenue) == ("won", Decimal("164.62"))
    assert events["quote.rejected"][0].payload.reason_code == "already_won"
    rows = await _rows(endpoints, _quote_state_sql(), lead=deal)
    assert [tuple(r) for r in rows] == [(1, "won", "won", "won", "won", Decimal("164.62"))]


async def test_an_unknown_sku_stays_draft_until_a_priced_revision_is_issued(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-draft-{run}"
    lead = qualified(deal, interests=(("SKU-1001", "1"), (f"SKU-NEW-{run}", "2")))
    first = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)):
            await _stock(endpoints, pl)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            await _poll(
                endpoints,
                _quote_state_sql(),
                lambda rows: [(r.revision, r.state) for r in rows] == [(1, "draft")],
                "draft revision 1",
                lead=deal,
            )
            assert _topics(await reader.settle(1.0), deal) == []
            command = revise(
                deal,
                first,
                line("SKU-1001", "1"),
                line(f"SKU-NEW-{run}", "2", unit_price="250.00", tax_rate="0.19"),
            )
            await publish(endpoints.kafka, [record_of("quote.commands", command)])
            await reader.collect(lambda rs: _topics(rs, deal) == ["quote.issued"])
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    [(topic, issued)] = _events(records, deal)
    assert topic == "quote.issued"
    assert issued.causation_id == command.event_id
    assert (issued.payload.revision, issued.payload.quote_id) == (
        2,
        quote_id_for(lead.payload.opportunity_id, 2),
    )
    assert [ln.write_in for ln in issued.payload.lines] == [False, True]
    assert issued.payload.totals.net_total == Decimal("519.99")
    assert issued.payload.totals.grand_total == Decimal("618.79")
    rows = await _rows(endpoints, _quote_state_sql(), lead=deal)
    assert [(r.revision, r.state, r.status_reason) for r in rows] == [
        (1, "closed", "revised"),
        (2, "active", "open"),
    ]


async def test_a_late_acceptance_is_refused_and_expires_the_quote(endpoints: Endpoints) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-late-{run}"
    settings = QuoteSettings(price_list_id=pl)
    lead = qualified(deal, interests=(("SKU-4000", "2"),))
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=settings):
            await _stock(endpoints, pl)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            await reader.collect(lambda rs: _topics(rs, deal) == ["quote.issued"])
        # 40 days on, past the 30 days of validity; no ticks of its own, so the acceptance is
        # what finds the quote expired.
        async with running_worker(
            endpoints, "quote", settings=settings, clock_offset_days=40, tick_seconds=0
        ):
            await publish(endpoints.kafka, [record_of("quote.commands", accept(deal, quote_id))])
            await reader.collect(lambda rs: len(_events(rs, deal)) >= 3)
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    events = _by_topic(records, deal)
    assert _counts(events) == dict.fromkeys(("quote.issued", "quote.closed", "quote.rejected"), 1)
    closed = events["quote.closed"][0].payload
    assert (closed.status.value, closed.quote_id) == ("expired", quote_id)
    refusal = events["quote.rejected"][0].payload
    assert (refusal.reason_code, refusal.command_type) == ("expired", "quote.accept")
    rows = await _rows(endpoints, _quote_state_sql(), lead=deal)
    assert [tuple(r) for r in rows] == [(1, "closed", "expired", "open", "in_progress", None)]


async def test_a_tick_past_the_validity_expires_the_quote_once(endpoints: Endpoints) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-tick-{run}"
    settings = QuoteSettings(price_list_id=pl)
    lead = qualified(deal, interests=(("SKU-4000", "2"),))
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=settings, tick_seconds=0):
            await _stock(endpoints, pl)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            await reader.collect(lambda rs: _topics(rs, deal) == ["quote.issued"])
            # Time moves 40 days on, past the 30 days of validity: the same tick from two
            # producers (the scheduler and a worker, say) is one tick.
            at = datetime.now(UTC) + timedelta(days=40)
            await publish_tick(endpoints.kafka, at, 3600)
            await publish_tick(endpoints.kafka, at, 3600)
            await reader.collect(lambda rs: len(_events(rs, deal)) >= 2)
            records = await reader.settle(1.5)
    finally:
        await reader.stop()

    events = _by_topic(records, deal)
    assert _counts(events) == {"quote.issued": 1, "quote.closed": 1}
    closed = events["quote.closed"][0]
    assert (closed.payload.status.value, closed.payload.quote_id) == ("expired", quote_id)
    assert closed.occurred_at == at.replace(microsecond=closed.occurred_at.microsecond)
    rows = await _rows(endpoints, _quote_state_sql(), lead=deal)
    assert [tuple(r) for r in rows] == [(1, "closed", "expired", "open", "in_progress", None)]


async def test_rejecting_loses_the_quote_and_the_opportunity(endpoints: Endpoints) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-lost-{run}"
    lead = qualified(deal)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)):
            await _stock(endpoints, pl)
            await publish(endpoints.kafka, [record_of("lead.qualified", lead)])
            await reader.collect(lambda rs: _topics(rs, deal) == ["quote.issued"])
            await publish(
                endpoints.kafka,
                [
                    record_of("quote.commands", reject(deal, quote_id)),
                    # A command keyed to another deal is refused, whatever the quote's state.
                    record_of("quote.commands", accept(f"other-{run}", quote_id)),
                ],
            )
            await reader.collect(
                lambda rs: len(_events(rs, deal)) >= 3 and bool(_topics(rs, f"other-{run}"))
            )
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    events = _by_topic(records, deal)
    assert _counts(events) == dict.fromkeys(
        ("quote.issued", "quote.closed", "opportunity.closed"), 1
    )
    assert events["quote.closed"][0].payload.status.value == "lost"
    lost = events["opportunity.closed"][0].payload
    assert (lost.outcome.value, lost.status_reason, lost.actual_revenue) == ("lost", "lost", None)
    [(topic, refused)] = _events(records, f"other-{run}")
    assert (topic, refused.payload.reason_code) == ("quote.rejected", "deal_mismatch")
    rows = await _rows(endpoints, _quote_state_sql(), lead=deal)
    assert [tuple(r) for r in rows] == [(1, "closed", "lost", "lost", "lost", None)]


async def test_a_qualified_lead_delivered_twice_opens_one_opportunity(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    pl = f"PL-{run}"
    leads = [qualified(f"q-dup-{run}-{i}") for i in range(10)]
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)):
            await _stock(endpoints, pl)
            first = [record_of("lead.qualified", e) for e in leads]
            # Twice in one publish (same batch or the next), then again once processed.
            await publish(endpoints.kafka, first + first[:5])
            await reader.collect(lambda rs: {r.key.decode() for r in rs} >= deals)
            await publish(endpoints.kafka, first[5:])
            records = await reader.settle(2.0)
    finally:
        await reader.stop()

    ours = [r for r in records if r.key.decode() in deals]
    assert Counter(r.key.decode() for r in ours) == dict.fromkeys(deals, 1)
    assert {r.topic for r in ours} == {"quote.issued"}
    rows = await _rows(
        endpoints,
        "SELECT o.lead_id, count(q.*) AS quotes FROM quote_svc.opportunities o "
        "JOIN quote_svc.quotes q USING (opportunity_id) WHERE o.lead_id = ANY(:ids) "
        "GROUP BY o.lead_id",
        ids=sorted(deals),
    )
    assert {r.lead_id: r.quotes for r in rows} == dict.fromkeys(deals, 1)
    numbers = {decode(r.value).payload.quote_number for r in ours}
    assert len(numbers) == len(deals)


async def test_the_sample_csv_is_loaded_onto_the_price_topic_and_stored(
    endpoints: Endpoints,
) -> None:
    pl = f"PL-{new_run_id()}"
    async with running_worker(endpoints, "quote", settings=QuoteSettings(price_list_id=pl)):
        count = await load_price_list(
            endpoints.kafka, REPO / "samples" / "price_list.csv", price_list_id=pl
        )
        assert count == 12
        await _poll(
            endpoints,
            "SELECT sku, unit_price, tax_rate, active FROM quote_svc.price_list_items "
            "WHERE price_list_id = :pl",
            lambda rows: len(rows) == 12,
            "12 items stored",
            pl=pl,
        )
    rows = await _rows(
        endpoints,
        "SELECT sku, unit_price, tax_rate, active FROM quote_svc.price_list_items "
        "WHERE price_list_id = :pl AND sku IN ('SKU-3005', 'SKU-9000') ORDER BY sku",
        pl=pl,
    )
    assert [tuple(r) for r in rows] == [
        ("SKU-3005", Decimal("14.95"), Decimal("0.07"), True),
        ("SKU-9000", Decimal("15.00"), Decimal("0.19"), False),
    ]
