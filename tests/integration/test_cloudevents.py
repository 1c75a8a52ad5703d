"""CloudEvents on real Kafka and PostgreSQL: lead_svc takes a structured-mode lead.captured,
parks a malformed CloudEvent and goes on with the partition, and what it publishes carries the
binary-mode headers."""

from __future__ import annotations

import orjson
import pytest

from contracts.cloudevents import STRUCTURED
from contracts.envelope import decode, structured_cloudevent
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, header, publish
from tests.support.leads import captured, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

CE_HEADERS = [("content-type", STRUCTURED.encode())]


async def test_a_structured_cloudevent_lead_comes_out_qualified_with_binary_headers(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    lead = captured(f"ce-{run}", company=f"Initech {run}, Inc.")
    # The same deal, so the same partition: the malformed one comes first and must not block.
    broken = orjson.loads(structured_cloudevent(captured(lead.deal_id)))
    broken["specversion"] = "0.3"
    key = lead.deal_id.encode()

    reader = await TopicReader(endpoints.kafka, ("lead.qualified", "lead_svc.dlq")).start()
    try:
        async with lead_worker(endpoints):
            await publish(
                endpoints.kafka,
                [
                    RawRecord("lead.captured", orjson.dumps(broken), key, CE_HEADERS),
                    RawRecord("lead.captured", structured_cloudevent(lead), key, CE_HEADERS),
                ],
            )
            records = await reader.collect(
                lambda rs: (
                    {r.topic for r in rs if r.key == key} >= {"lead.qualified", "lead_svc.dlq"}
                )
            )
    finally:
        await reader.stop()

    ours = [r for r in records if r.key == key]
    (parked,) = [r for r in ours if r.topic == "lead_svc.dlq"]
    assert header(parked, "dlq.reason") == "schema_violation"
    assert "specversion '0.3'" in (header(parked, "dlq.error") or "")
    assert header(parked, "content-type") == STRUCTURED, "the original headers travel along"
    assert parked.value == orjson.dumps(broken), "and the original bytes"

    (qualified,) = [r for r in ours if r.topic == "lead.qualified"]
    event = decode(qualified.value)
    assert event.causation_id == lead.event_id, "the CloudEvent's id became the event id"
    assert header(qualified, "ce_specversion") == "1.0"
    assert header(qualified, "ce_id") == str(event.event_id)
    assert header(qualified, "ce_type") == "com.salesflow.lead.qualified"
    assert header(qualified, "ce_source") == "/salesflow/lead_svc"
    assert header(qualified, "ce_subject") == lead.deal_id
    assert header(qualified, "ce_time") == event.occurred_at.isoformat().replace("+00:00", "Z")
    assert header(qualified, "content-type") == "application/json"
    assert header(qualified, "event_type") == "lead.qualified", "the old headers stay"
