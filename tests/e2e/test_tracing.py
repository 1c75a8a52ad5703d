"""One deal, one trace, with the four workers as processes (tracing off, their default): the
trace context a lead arrives with is carried by every event of the deal, lead to invoice, when
the customer's accept carries the `traceparent` of the quote it answers."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.quotes import AcceptQuote
from tests.support.kafka_probe import RawRecord, header, publish, record_of
from tests.support.pipeline import Pipeline, command, lead_of

pytestmark = pytest.mark.e2e

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


def _traced(record: RawRecord, traceparent: str) -> RawRecord:
    return RawRecord(
        record.topic,
        record.value,
        record.key,
        [*record.headers, ("traceparent", traceparent.encode())],
    )


def _records(pipeline: Pipeline, deal: str) -> list[Any]:
    return [
        r
        for r in pipeline.reader.records
        if r.key == deal.encode() and not r.topic.endswith(".dlq")
    ]


async def test_every_event_of_a_deal_carries_the_trace_it_started_in(
    pipeline: Pipeline,
) -> None:
    lead = lead_of("trace")
    deal = lead.deal_id
    await publish(
        pipeline.endpoints.kafka, [_traced(record_of("lead.captured", lead), TRACEPARENT)]
    )
    (issued,) = await pipeline.events(deal, "quote.issued")
    (issued_record,) = [r for r in _records(pipeline, deal) if r.topic == "quote.issued"]
    answered = header(issued_record, "traceparent")
    assert answered is not None
    accept = AcceptQuote(quote_id=issued.payload.quote_id, accepted_by="buyer", customer_po="PO-9")
    # The customer reacts to quote.issued: its command carries that event's context.
    await publish(
        pipeline.endpoints.kafka,
        [_traced(record_of("quote.commands", command(accept, "quote.accept", deal)), answered)],
    )
    await pipeline.events(deal, "invoice.posted")
    records = _records(pipeline, deal)
    topics = {r.topic for r in records}
    assert {
        "lead.qualified",
        "quote.issued",
        "quote.accepted",
        "order.confirmed",
        "invoice.posted",
    } <= topics
    untraced = [
        (r.topic, header(r, "traceparent"))
        for r in records
        if (header(r, "traceparent") or "").split("-")[1:2] != [TRACE_ID]
    ]
    assert untraced == [], "every event of the deal is in the trace it started in"
