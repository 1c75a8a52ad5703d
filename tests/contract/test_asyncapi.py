"""The AsyncAPI documents say what the code does: topics, payloads, keys, headers, who does what.

Their validity as AsyncAPI 3 is the AsyncAPI parser's verdict (`scripts/asyncapi.sh`, make lint);
these tests hold their content to the topic map, the committed schemas and the principals.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any, get_args

import pytest

from contracts.access import principal
from contracts.envelope import kafka_headers, make_envelope
from contracts.registry import EVENT_TYPES
from contracts.schemagen import SCHEMA_DIR, example_payload
from contracts.stages import STAGES
from contracts.topics import ALL_TOPICS, TopicKind, topic_for_event
from salesflow.asyncapi import DOC_DIR, check, documents, main, system_document
from shared.kafka_security import Mechanism
from shared.tracing import TRACEPARENT, TRACESTATE

SYSTEM_TIME = datetime(2025, 1, 20, tzinfo=UTC)
DOCS = documents()
SYSTEM = DOCS["salesflow"]


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_committed_documents_equal_the_generated_ones() -> None:
    # On failure: `make asyncapi`, review the diff, commit it.
    assert check() == []
    assert main(["--check"]) == 0
    assert sorted(p.stem for p in DOC_DIR.glob("*.json")) == sorted(DOCS)


def test_one_document_per_worker_and_one_for_the_system() -> None:
    assert set(DOCS) == {"salesflow", *(s.service for s in STAGES)}
    assert SYSTEM["asyncapi"] == "3.0.0"
    assert SYSTEM["info"]["title"] == "salesflow"
    assert SYSTEM["info"]["version"] == version("salesflow")
    for stem, document in DOCS.items():
        assert document["info"]["version"] == SYSTEM["info"]["version"], stem


@pytest.mark.parametrize("stem", sorted(DOCS))
def test_every_reference_resolves(stem: str) -> None:
    document = DOCS[stem]
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        _resolve(document, ref)


def test_every_topic_is_a_channel_with_its_partitions_and_retention() -> None:
    channels = SYSTEM["channels"]

    assert list(channels) == [spec.name for spec in ALL_TOPICS]
    for spec in ALL_TOPICS:
        binding = channels[spec.name]["bindings"]["kafka"]
        configs = binding["topicConfiguration"]
        assert channels[spec.name]["address"] == spec.name
        assert binding["partitions"] == spec.partitions
        assert configs["cleanup.policy"] == [spec.configs["cleanup.policy"]]
        assert str(configs["retention.ms"]) == spec.configs["retention.ms"]


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_message_carries_its_committed_schema(event_type: str) -> None:
    spec = topic_for_event(event_type)
    message = SYSTEM["components"]["messages"][event_type]
    committed = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text("utf-8"))
    payload = _resolve(SYSTEM, message["payload"]["$ref"])

    assert event_type in SYSTEM["channels"][spec.name]["messages"]
    # The committed schema, its definitions moved into components (no empty payload anywhere).
    assert payload["properties"].keys() == committed["properties"].keys()
    assert payload["properties"]["event_type"]["const"] == event_type
    for name, definition in committed.get("$defs", {}).items():
        moved = json.dumps(definition).replace("#/$defs/", "#/components/schemas/")
        assert SYSTEM["components"]["schemas"][name] == json.loads(moved)
    payload_ref = payload["properties"]["payload"]["$ref"]
    assert payload_ref == committed["properties"]["payload"]["$ref"].replace(
        "#/$defs/", "#/components/schemas/"
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_headers_are_those_salesflow_writes(event_type: str) -> None:
    model = EVENT_TYPES[event_type]
    envelope = make_envelope(
        model.model_validate(example_payload(model)),
        event_type=event_type,
        deal_id="L-1",
        producer="lead_svc",
        occurred_at=SYSTEM_TIME,
    )
    message = SYSTEM["components"]["messages"][event_type]

    # what kafka_headers writes, then the trace context the relay adds (shared.tracing)
    assert list(message["headers"]["properties"]) == [
        *(name for name, _ in kafka_headers(envelope)),
        TRACEPARENT,
        TRACESTATE,
    ]
    assert message["headers"]["properties"]["event_type"]["enum"] == [event_type]


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_example_is_keyed_by_the_key_rule(event_type: str) -> None:
    message = SYSTEM["components"]["messages"][event_type]
    key = message["bindings"]["kafka"]["key"]
    (example,) = message["examples"]
    written = example["summary"].removeprefix("Kafka key: ")
    model = EVENT_TYPES[event_type]

    assert "murmur2" in key["description"]
    assert re.search(key.get("pattern", ".*"), written)
    assert written in key.get("enum", [written])
    assert model.model_validate(example["payload"]["payload"]) is not None


def test_dead_letter_topics_carry_the_original_record_and_the_dlq_headers() -> None:
    message = SYSTEM["components"]["messages"]["dead_letter"]

    assert {"dlq.reason", "dlq.source_topic", "dlq.source_offset"} <= set(
        message["headers"]["required"]
    )
    for spec in ALL_TOPICS:
        if spec.kind is TopicKind.DEAD_LETTER:
            assert list(SYSTEM["channels"][spec.name]["messages"]) == ["dead_letter"]


def test_security_schemes_cover_every_mechanism_salesflow_connects_with() -> None:
    schemes = SYSTEM["components"]["securitySchemes"]
    types = {scheme["type"] for scheme in schemes.values()}

    assert len(get_args(Mechanism)) == 3
    assert types == {"scramSha256", "scramSha512", "plain", "X509"}
    assert {s["protocol"] for s in SYSTEM["servers"].values()} == {"kafka", "kafka-secure"}
    assert "{bootstrap}" in SYSTEM["servers"]["production"]["host"]


def test_the_system_receives_what_workers_read_and_sends_what_they_write() -> None:
    workers = [principal(s.service) for s in STAGES]
    reads = {name for p in workers for name in p.reads}
    writes = {name for p in workers for name in p.writes}
    operations = system_document()["operations"]

    assert {
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in operations.values()
        if op["action"] == "receive"
    } == reads
    assert {
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in operations.values()
        if op["action"] == "send"
    } == writes
    assert "lead.captured" in reads
    assert "invoice.posted" in writes


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.service)
def test_a_worker_document_is_its_principal(stage: Any) -> None:
    document = DOCS[stage.service]
    who = principal(stage.service)
    operations = document["operations"]
    received = [
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in operations.values()
        if op["action"] == "receive"
    ]
    sent = [
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in operations.values()
        if op["action"] == "send"
    ]

    assert received == list(who.reads)
    assert sent == list(who.writes)
    assert set(document["channels"]) == {*who.reads, *who.writes}
    for op in operations.values():
        if op["action"] == "receive":
            assert op["bindings"]["kafka"]["groupId"]["enum"] == [stage.group_id]
