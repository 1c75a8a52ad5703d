"""quote_svc on real Kafka and PostgreSQL for what issue 12 added to its store: a lead in a
currency without a rate held and opened when the ERP publishes one, a volume discount and base
amounts on the quote, a second quote created and activated, the opportunity updated and closed
by a person."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.catalog import VolumeDiscountTier, VolumeDiscountUpserted
from contracts.envelope import Envelope, decode, encode, kafka_headers, make_envelope
from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    OpportunityCloseReason,
    UpdateOpportunity,
)
from contracts.quotes import OpportunityOutcome, QuoteLineInput
from contracts.rates import ExchangeRatePublished
from contracts.topics import kafka_key, topic_for_event
from services.quote_svc.settings import QuoteSettings
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, publish
from tests.support.leads import new_run_id
from tests.support.quotes import command, price, price_record, qualified
from tests.support.workers import running_worker

pytestmark = pytest.mark.integration

WATCHED = (
    "opportunity.opened",
    "opportunity.updated",
    "opportunity.closed",
    "quote.drafted",
    "quote.issued",
    "quote.closed",
    "quote.rejected",
)
# A currency no other test uses: the rows of its rates are this test's to reset.
FOREIGN = "ISK"


def _record(envelope: Envelope[Any]) -> RawRecord:
    topic = topic_for_event(envelope.event_type).name
    return RawRecord(topic, encode(envelope), kafka_key(envelope), kafka_headers(envelope))


def _fact(payload: Any, deal: str) -> Envelope[Any]:
    return make_envelope(
        payload,
        event_type=payload.EVENT_TYPE,
        deal_id=deal,
        producer="erp",
        occurred_at=datetime.now(UTC),
    )


def _of(records: list[Any], deal: str) -> list[Envelope[Any]]:
    return [decode(r.value) for r in records if r.key == deal.encode()]


def _types(records: list[Any], deal: str) -> list[str]:
    return [e.event_type for e in _of(records, deal)]


async def _sql(endpoints: Endpoints, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


async def _until(endpoints: Endpoints, sql: str, **params: Any) -> None:
    deadline = time.monotonic() + 30
    while not await _sql(endpoints, sql, **params):
        assert time.monotonic() < deadline, sql
        await asyncio.sleep(0.1)


async def test_a_held_lead_a_volume_discount_several_quotes_and_a_person_closing(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    pl, deal = f"PL-{run}", f"q-people-{run}"
    await _sql(
        endpoints,
        "DELETE FROM quote_svc.exchange_rates WHERE from_currency = :c OR to_currency = :c",
        c=FOREIGN,
    )
    lead = qualified(
        deal, currency=FOREIGN, estimated_revenue="150000", interests=(("SKU-V", "12"),)
    )
    opportunity_id = lead.payload.opportunity_id
    reader = await TopicReader(endpoints.kafka, WATCHED).start()
    try:
        async with running_worker(
            endpoints, "quote", settings=QuoteSettings(price_list_id=pl), tick_seconds=0
        ):
            volume = VolumeDiscountUpserted(
                price_list_id=pl,
                sku="SKU-V",
                tiers=(VolumeDiscountTier(min_quantity=Decimal(10), discount_rate=Decimal("0.1")),),
            )
            await publish(
                endpoints.kafka,
                [
                    price_record(price("SKU-V", "19.99", price_list_id=pl)),
                    _record(_fact(volume, pl)),
                ],
            )
            await _until(
                endpoints,
                "SELECT 1 FROM quote_svc.volume_discounts v JOIN quote_svc.price_list_items p "
                "USING (price_list_id, sku) WHERE price_list_id = :pl",
                pl=pl,
            )
            # No ISK->EUR rate yet: refused with a reason, held.
            await publish(endpoints.kafka, [_record(lead)])
            await reader.collect(lambda rs: "quote.rejected" in _types(rs, deal))
            assert await _sql(
                endpoints,
                "SELECT 1 FROM quote_svc.waiting_qualifications WHERE lead_id = :d",
                d=deal,
            )
            rate = ExchangeRatePublished(
                from_currency=FOREIGN,
                to_currency="EUR",
                rate=Decimal("0.0066"),
                valid_on=datetime.now(UTC).date(),
            )
            await publish(endpoints.kafka, [_record(_fact(rate, f"{FOREIGN}EUR"))])
            records = await reader.collect(lambda rs: "quote.issued" in _types(rs, deal))
            opened = next(e for e in _of(records, deal) if e.event_type == "opportunity.opened")
            issued = next(e for e in _of(records, deal) if e.event_type == "quote.issued")
            # Then a person: a second quote, activated; the estimates updated; closed Lost.
            second = uuid.uuid4()
            line = QuoteLineInput(sku="SKU-V", quantity=Decimal(5))
            await publish(
                endpoints.kafka,
                [
                    _record(
                        command(
                            deal,
                            CreateQuote(
                                opportunity_id=opportunity_id,
                                quote_id=second,
                                lines=(line,),
                                quote_discount_amount=Decimal("5.00"),
                                requested_by="rep",
                            ),
                        )
                    ),
                    _record(command(deal, ActivateQuote(quote_id=second, requested_by="rep"))),
                    _record(
                        command(
                            deal,
                            UpdateOpportunity(
                                opportunity_id=opportunity_id, probability=70, requested_by="rep"
                            ),
                        )
                    ),
                    _record(
                        command(
                            deal,
                            CloseOpportunity(
                                opportunity_id=opportunity_id,
                                outcome=OpportunityOutcome.LOST,
                                status_reason=OpportunityCloseReason.OUT_SOLD,
                                competitor="Babbage & Co",
                                requested_by="rep",
                            ),
                        )
                    ),
                ],
            )
            records = await reader.collect(lambda rs: "opportunity.closed" in _types(rs, deal))
            records = await reader.settle(1.0)
    finally:
        await reader.stop()

    # 150000 ISK at 0.0066 = 990.00 EUR; 12 x 19.99 = 239.88, 10 % off = 23.99.
    assert (opened.payload.currency, opened.payload.estimated_revenue) == ("EUR", Decimal("990.00"))
    assert issued.payload.lines[0].discount_amount == Decimal("23.99")
    assert issued.payload.base.totals == issued.payload.totals
    events = _of(records, deal)
    second_issued = [
        e.payload for e in events if e.event_type == "quote.issued" and e.payload.quote_id == second
    ]
    assert len(second_issued) == 1 and second_issued[0].quote_discount_amount == Decimal("5.00")
    assert second_issued[0].quote_number != issued.payload.quote_number
    closed = [e.payload for e in events if e.event_type == "quote.closed"]
    assert {c.quote_id for c in closed} == {issued.payload.quote_id, second}
    (lost,) = [e.payload for e in events if e.event_type == "opportunity.closed"]
    assert (lost.outcome.value, lost.status_reason, lost.competitor) == (
        "lost",
        "out_sold",
        "Babbage & Co",
    )
    rows = await _sql(
        endpoints,
        "SELECT state, probability, competitor FROM quote_svc.opportunities WHERE lead_id = :d",
        d=deal,
    )
    assert [tuple(r) for r in rows] == [("lost", 0, "Babbage & Co")]
    assert not await _sql(
        endpoints, "SELECT 1 FROM quote_svc.waiting_qualifications WHERE lead_id = :d", d=deal
    )
