"""The intake reads a record's CloudEvents headers: structured mode by its content type, and
binary-mode headers held to the body like the other copies; a dead letter keeps them all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.cloudevents import STRUCTURED
from contracts.envelope import kafka_headers, structured_cloudevent
from contracts.topics import topic
from shared.deadletter import DeadLetterReason, dead_letter
from shared.intake import Intake, content_type
from shared.messages import Incoming
from tests.support.leads import captured
from tests.support.runtime import consumed

INTAKE = Intake({"lead.captured": frozenset(topic("lead.captured").event_types)}, 262_144)


def test_the_content_type_header_is_found_whatever_its_case() -> None:
    assert content_type([("Content-Type", b"application/cloudevents+json")]) == STRUCTURED
    assert content_type([("event_id", b"x")]) is None
    assert content_type([("content-type", b"a"), ("content-type", b"b")]) == "b", "the last"


def test_a_structured_cloudevent_reads_as_its_envelope() -> None:
    envelope = captured("L1")
    record = consumed(
        envelope,
        7,
        value=structured_cloudevent(envelope),
        headers=[("content-type", b"application/cloudevents+json; charset=utf-8")],
    )
    read = INTAKE.read(record)
    assert isinstance(read, Incoming)
    assert read.envelope == envelope
    assert read.offset == 7


def test_a_structured_cloudevent_keyed_otherwise_than_its_subject_is_refused() -> None:
    envelope = captured("L1")
    record = consumed(
        envelope,
        0,
        key=b"L2",
        value=structured_cloudevent(envelope),
        headers=[("content-type", STRUCTURED.encode())],
    )
    read = INTAKE.read(record)
    assert isinstance(read, DeadLetterReason)
    assert read.code == "key_mismatch"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("ce_id", b"7d4f1c36-4f4b-4b8e-9a51-0c2b1f3b2f11"),
        ("ce_type", b"com.salesflow.lead.qualified"),
        ("ce_subject", b"L2"),
    ],
)
def test_a_binary_mode_header_that_contradicts_the_body_is_refused(
    header: str, value: bytes
) -> None:
    envelope = captured("L1")
    headers = [(k, value if k == header else v) for k, v in kafka_headers(envelope)]
    read = INTAKE.read(consumed(envelope, 0, headers=headers))
    assert isinstance(read, DeadLetterReason)
    assert (read.code, read.message) == (
        "header_mismatch",
        f"header {header!r} contradicts the body",
    )


def test_what_salesflow_publishes_is_read_back_and_its_dead_letter_keeps_every_header() -> None:
    envelope = captured("L1")
    record = consumed(envelope, 3)
    assert isinstance(INTAKE.read(record), Incoming)
    parked = dead_letter(
        record,
        DeadLetterReason("processing_failed", "RuntimeError", "boom"),
        topic="lead_svc.dlq",
        service="lead_svc",
        seen_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    names: list[Any] = [k for k, _ in parked.headers]
    for name in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject"):
        assert name in names
    assert "content-type" in names and "dlq.reason" in names
