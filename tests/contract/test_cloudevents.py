"""The envelope as a CloudEvent: binary-mode headers out, structured mode in, both ways for every
event type, and every CloudEvent salesflow cannot map refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
import pytest

from contracts import cloudevents
from contracts.envelope import (
    Envelope,
    decode,
    kafka_headers,
    make_envelope,
    structured_cloudevent,
)
from contracts.errors import ContractViolation, InvalidMessage, UndecodableMessage, UnknownEventType
from contracts.registry import EVENT_TYPES
from tests.contract.payload_examples import AT, COMMAND_ID, DEAL_ID, EXAMPLES

STRUCTURED = cloudevents.STRUCTURED


def _envelope(event_type: str = "lead.captured", **overrides: Any) -> Envelope[Any]:
    args: dict[str, Any] = {
        "event_type": event_type,
        "deal_id": DEAL_ID,
        "producer": "lead_svc",
        "occurred_at": AT,
        "causation_id": COMMAND_ID,
    }
    args.update(overrides)
    return make_envelope(EXAMPLES[event_type], **args)


def _event(**changes: Any) -> dict[str, Any]:
    """A structured-mode lead.captured CloudEvent as an integrator would send it, to tamper
    with; a change to None removes the attribute."""
    event: dict[str, Any] = orjson.loads(structured_cloudevent(_envelope()))
    for name, value in changes.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def _refusal(event: Any) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        decode(orjson.dumps(event), content_type=STRUCTURED)
    return caught.value


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_carries_the_binary_mode_headers_next_to_the_old_ones(event_type: str) -> None:
    envelope = _envelope(event_type)
    headers = dict(kafka_headers(envelope))
    assert headers["event_type"] == event_type.encode(), "the existing headers stay"
    assert headers["event_id"] == str(envelope.event_id).encode()
    assert headers["deal_id"] == DEAL_ID.encode()
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == str(envelope.event_id).encode()
    assert headers["ce_type"] == f"com.salesflow.{event_type}".encode()
    assert headers["ce_source"] == b"/salesflow/lead_svc"
    assert headers["ce_subject"] == DEAL_ID.encode()
    assert headers["content-type"] == b"application/json"
    time = headers["ce_time"].decode()
    assert time.endswith("Z")
    assert datetime.fromisoformat(time) == envelope.occurred_at


def test_the_time_is_rfc_3339_utc_whatever_zone_the_producer_used() -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    headers = dict(kafka_headers(_envelope(occurred_at=at)))
    assert headers["ce_time"] == b"2026-03-01T07:30:15.250000Z"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_a_structured_cloudevent_reads_back_as_the_envelope_it_came_from(event_type: str) -> None:
    envelope = _envelope(event_type)
    event = orjson.loads(structured_cloudevent(envelope))
    assert event["type"] == f"com.salesflow.{event_type}"
    assert event["subject"] == DEAL_ID
    assert event["data"] == orjson.loads(orjson.dumps(envelope.payload.model_dump(mode="json")))
    assert decode(structured_cloudevent(envelope), content_type=STRUCTURED) == envelope


def test_the_naming_rules_go_both_ways() -> None:
    for event_type in EVENT_TYPES:
        assert cloudevents.event_type_of(cloudevents.ce_type(event_type)) == event_type
    assert cloudevents.producer_of(cloudevents.ce_source("web-forms")) == "web-forms"
    # A source outside salesflow's names its producer without the leading slashes.
    assert cloudevents.producer_of("/sap/s4") == "sap/s4"
    assert cloudevents.producer_of("https://erp.example.com/s4") == "https://erp.example.com/s4"


def test_only_the_minimum_an_integrator_must_send_is_required() -> None:
    event = _event(causationid=None, schemaversion=None, datacontenttype=None)
    envelope = decode(orjson.dumps(event), content_type=STRUCTURED)
    assert envelope.causation_id is None
    assert envelope.schema_version == EXAMPLES["lead.captured"].SCHEMA_VERSION
    assert envelope.producer == "lead_svc"
    assert envelope.event_id == UUID(event["id"])
    assert envelope.occurred_at == AT.astimezone(UTC)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/cloudevents+json",
        "application/cloudevents+json; charset=utf-8",
        "Application/CloudEvents+JSON",
    ],
)
def test_the_structured_content_type_is_recognised_in_its_spellings(content_type: str) -> None:
    assert cloudevents.is_structured(content_type)
    envelope = _envelope()
    assert decode(structured_cloudevent(envelope), content_type=content_type) == envelope


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_any_other_content_type_means_the_envelope(content_type: str | None) -> None:
    assert not cloudevents.is_structured(content_type)
    with pytest.raises(ContractViolation, match="event_type"):
        decode(structured_cloudevent(_envelope()), content_type=content_type)


@pytest.mark.parametrize(
    ("event", "reason", "says"),
    [
        (_event(id=None), "schema_violation", "id missing"),
        (_event(subject=None, time=None), "schema_violation", "subject, time missing"),
        (_event(source=7), "schema_violation", "source missing or not a string"),
        (_event(specversion="0.3"), "schema_violation", "specversion '0.3'"),
        (_event(type="com.example.lead.captured"), "schema_violation", "com.salesflow."),
        (_event(type="com.salesflow.lead.stolen"), "unknown_event_type", "lead.stolen"),
        (_event(datacontenttype="application/xml"), "schema_violation", "datacontenttype"),
        (_event(data=None), "schema_violation", "data missing"),
        (_event(data=[1, 2]), "schema_violation", "data missing or not a JSON object"),
        (_event(data=None, data_base64="e30="), "schema_violation", "data_base64"),
        (_event(id="not-a-uuid"), "schema_violation", "payload): event_id: "),
        (_event(subject="bad subject!"), "schema_violation", "payload): deal_id: "),
        (_event(time="yesterday"), "schema_violation", "payload): occurred_at: "),
        (_event(data={"source": "web"}), "schema_violation", "payload): payload.lead_id: "),
        (_event(causationid="nope"), "schema_violation", "payload): causation_id: "),
    ],
)
def test_a_cloudevent_that_cannot_be_mapped_is_refused_with_its_reason(
    event: dict[str, Any], reason: str, says: str
) -> None:
    refused = _refusal(event)
    assert refused.reason == reason
    assert says in str(refused)


def test_a_structured_record_that_is_not_a_json_object_is_refused() -> None:
    with pytest.raises(UndecodableMessage):
        decode(b"[1, 2]", content_type=STRUCTURED)
    with pytest.raises(UndecodableMessage):
        decode(b"\xff{", content_type=STRUCTURED)
    with pytest.raises(UnknownEventType):
        decode(orjson.dumps(_event(type="com.salesflow.")), content_type=STRUCTURED)
