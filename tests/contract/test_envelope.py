"""Envelope round trips, tolerant reading, strict producing, and every decode failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from pydantic import ValidationError

from contracts.base import TOLERANT, Payload
from contracts.envelope import (
    MAX_MESSAGE_BYTES,
    Envelope,
    decode,
    encode,
    envelope_type,
    kafka_headers,
    make_envelope,
)
from contracts.errors import (
    ContractViolation,
    InvalidMessage,
    MessageTooLarge,
    UndecodableMessage,
    UnknownEventType,
)
from contracts.leads import ContactInfo, LeadCaptured, LeadSource, QualifyLead
from contracts.registry import EVENT_TYPES
from contracts.rejections import CommandRejected
from tests.contract.payload_examples import AT, COMMAND_ID, DEAL_ID, EXAMPLES


def _envelope(example: str, **overrides: Any) -> Envelope[Any]:
    """The example payload of ``example`` in an envelope; ``overrides`` go to make_envelope."""
    args: dict[str, Any] = {
        "event_type": example,
        "deal_id": DEAL_ID,
        "producer": "test_svc",
        "occurred_at": AT,
        "causation_id": COMMAND_ID,
    }
    args.update(overrides)
    return make_envelope(EXAMPLES[example], **args)


def _wire(event_type: str = "lead.captured") -> dict[str, Any]:
    """The JSON object of an example message, to tamper with."""
    data: dict[str, Any] = orjson.loads(encode(_envelope(event_type)))
    return data


def test_every_event_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_round_trip(event_type: str) -> None:
    envelope = _envelope(event_type)

    decoded = decode(encode(envelope))

    assert decoded == envelope
    assert type(decoded.payload) is EVENT_TYPES[event_type]
    assert decoded.event_type == event_type
    assert decoded.causation_id == COMMAND_ID


def test_make_envelope_fills_metadata() -> None:
    envelope = make_envelope(
        EXAMPLES["lead.captured"],
        event_type="lead.captured",
        deal_id=DEAL_ID,
        producer="web-forms",
        occurred_at=datetime(2025, 1, 20, 15, 3, tzinfo=timezone(timedelta(hours=1))),
    )

    assert isinstance(envelope.event_id, UUID)
    assert envelope.event_id.version == 4
    assert envelope.schema_version == LeadCaptured.SCHEMA_VERSION == 1
    assert envelope.causation_id is None
    assert envelope.occurred_at == datetime(2025, 1, 20, 14, 3, tzinfo=UTC)
    assert envelope.occurred_at.tzinfo is UTC


def test_make_envelope_keeps_a_given_event_id() -> None:
    event_id = uuid4()

    assert _envelope("lead.qualify", event_id=event_id).event_id == event_id


def test_one_payload_class_serves_the_four_rejection_types() -> None:
    payload = EXAMPLES["order.rejected"]
    assert isinstance(payload, CommandRejected)

    for event_type in ("lead.rejected", "quote.rejected", "order.rejected", "invoice.rejected"):
        decoded = decode(encode(_envelope("order.rejected", event_type=event_type)))

        assert decoded.event_type == event_type
        assert decoded.payload == payload


def test_make_envelope_refuses_a_payload_of_another_event_type() -> None:
    with pytest.raises(TypeError, match="carries LeadQualified, not LeadCaptured"):
        make_envelope(
            EXAMPLES["lead.captured"],
            event_type="lead.qualified",
            deal_id=DEAL_ID,
            producer="lead_svc",
            occurred_at=AT,
        )


def test_make_envelope_refuses_an_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType):
        _envelope("lead.captured", event_type="lead.vanished")


def test_make_envelope_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _envelope("lead.captured", occurred_at=datetime(2025, 1, 20, 14, 3))  # noqa: DTZ001 - a naive datetime is the invalid input under test


def test_encode_refuses_an_envelope_of_the_bare_generic_class() -> None:
    # The bare class would serialise the payload as the empty Payload base.
    envelope = Envelope[Payload](
        event_id=uuid4(),
        event_type="lead.qualify",
        schema_version=1,
        occurred_at=AT,
        deal_id=DEAL_ID,
        producer="test",
        payload=EXAMPLES["lead.qualify"],
    )
    with pytest.raises(TypeError, match="make_envelope"):
        encode(envelope)


def test_encode_writes_compact_json_with_decimal_strings() -> None:
    raw = encode(_envelope("invoice.paid"))

    assert b": " not in raw
    assert b'"amount":"100.00"' in raw
    assert b'"balance_due":"521.78"' in raw
    assert b'"occurred_at":"2025-01-20T14:03:00Z"' in raw


def test_kafka_headers_mirror_the_body() -> None:
    envelope = _envelope("lead.captured")

    # The CloudEvents headers follow (tests/contract/test_cloudevents.py).
    assert kafka_headers(envelope)[:3] == [
        ("event_type", b"lead.captured"),
        ("event_id", str(envelope.event_id).encode()),
        ("deal_id", DEAL_ID.encode()),
    ]


# --- tolerant reader, strict producer --------------------------------------------------------


def test_decode_ignores_unknown_fields_at_every_level() -> None:
    envelope = _envelope("lead.captured")
    data = orjson.loads(encode(envelope))
    data["trace_parent"] = "00-abc"
    data["payload"]["lead_score"] = 87
    data["payload"]["contact"]["linkedin"] = "ada"
    data["payload"]["product_interests"][0]["colour"] = "blue"

    decoded = decode(orjson.dumps(data))

    assert decoded == envelope
    assert "lead_score" not in decoded.payload.model_dump()
    assert b"linkedin" not in encode(decoded)


def test_strict_producer_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        QualifyLead.model_validate({"lead_id": DEAL_ID, "requested_by": "me", "priority": "high"})

    assert caught.value.errors()[0]["type"] == "extra_forbidden"
    assert caught.value.errors()[0]["loc"] == ("priority",)


def test_strict_producer_refuses_unknown_fields_in_constructors() -> None:
    kwargs: dict[str, Any] = {"first_name": "Ada", "last_name": "Lovelace", "nickname": "Countess"}

    with pytest.raises(ValidationError, match="nickname"):
        ContactInfo(**kwargs)


def test_strict_mode_reports_nested_unknown_fields_at_their_location() -> None:
    data = _wire("lead.captured")
    data["payload"]["contact"]["linkedin"] = "ada"

    with pytest.raises(ValidationError) as caught:
        envelope_type("lead.captured").model_validate(data)

    assert [e["loc"] for e in caught.value.errors()] == [("payload", "contact", "linkedin")]
    # and the same data is fine for a consumer
    assert envelope_type("lead.captured").model_validate(data, context=TOLERANT).deal_id == DEAL_ID


def test_models_are_frozen() -> None:
    payload = EXAMPLES["lead.qualify"]
    assert isinstance(payload, QualifyLead)

    with pytest.raises(ValidationError, match="frozen"):
        payload.lead_id = "L-other"  # type: ignore[misc]


# --- decode errors --------------------------------------------------------------------------


def _reason(raw: bytes, **kwargs: Any) -> tuple[type[InvalidMessage], str]:
    with pytest.raises(InvalidMessage) as caught:
        decode(raw, **kwargs)
    return type(caught.value), caught.value.reason


def test_not_json() -> None:
    assert _reason(b"{not json") == (UndecodableMessage, "not_json")


def test_not_utf8() -> None:
    latin1 = b'{"event_type": "lead.captured", "payload": {"topic": "Jos\xe9"}}'

    assert _reason(latin1) == (UndecodableMessage, "not_json")
    assert _reason(b"\xff\xfe{}") == (UndecodableMessage, "not_json")


def test_json_that_is_not_an_object() -> None:
    assert _reason(b'[{"event_type": "lead.captured"}]') == (UndecodableMessage, "not_json")
    assert _reason(b'"lead.captured"') == (UndecodableMessage, "not_json")
    assert _reason(b"null") == (UndecodableMessage, "not_json")


def test_unknown_event_type() -> None:
    data = _wire()
    data["event_type"] = "lead.teleported"

    with pytest.raises(UnknownEventType) as caught:
        decode(orjson.dumps(data))

    assert caught.value.reason == "unknown_event_type"
    assert caught.value.event_type == "lead.teleported"


def test_missing_event_type() -> None:
    data = _wire()
    del data["event_type"]

    assert _reason(orjson.dumps(data)) == (ContractViolation, "schema_violation")


def test_missing_payload_field() -> None:
    data = _wire()
    del data["payload"]["contact"]["last_name"]

    with pytest.raises(ContractViolation) as caught:
        decode(orjson.dumps(data))

    assert caught.value.reason == "schema_violation"
    assert caught.value.event_type == "lead.captured"
    assert caught.value.summary == "payload.contact.last_name: Field required"


def test_violation_summary_is_capped_and_has_no_input() -> None:
    data = _wire("order.confirmed")
    secret = "do-not-log-me"
    data["payload"]["lines"] = [{"description": secret}] * 50

    with pytest.raises(ContractViolation) as caught:
        decode(orjson.dumps(data))

    assert len(caught.value.summary) == 500
    assert caught.value.summary.endswith("...")
    assert secret not in caught.value.summary


def test_oversized_message_is_refused_before_parsing() -> None:
    raw = encode(_envelope("lead.captured"))

    assert _reason(raw, max_bytes=len(raw) - 1) == (MessageTooLarge, "oversized")
    assert decode(raw, max_bytes=len(raw)).deal_id == DEAL_ID
    assert _reason(b"[" * (MAX_MESSAGE_BYTES + 1)) == (MessageTooLarge, "oversized")


# --- wire types -----------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [25000.0, 0.1, 1e3])
def test_float_amounts_are_rejected_on_decode(amount: float) -> None:
    data = _wire()
    data["payload"]["budget_amount"] = amount

    with pytest.raises(ContractViolation, match=r"payload\.budget_amount: floats are not accepted"):
        decode(orjson.dumps(data))


def test_float_amounts_are_rejected_on_construction() -> None:
    with pytest.raises(ValidationError, match="floats are not accepted"):
        LeadCaptured.model_validate(
            {
                "lead_id": DEAL_ID,
                "source": LeadSource.WEB_FORM,
                "contact": {"first_name": "Ada", "last_name": "Lovelace"},
                "topic": "widgets",
                "currency": "EUR",
                "budget_amount": 25000.5,
            }
        )


def test_integer_amounts_are_accepted_on_decode() -> None:
    data = _wire()
    data["payload"]["budget_amount"] = 25000

    assert decode(orjson.dumps(data)).payload.budget_amount == Decimal(25000)


@pytest.mark.parametrize(
    "occurred_at", ["2025-01-20T14:03:00", "2025-01-20 14:03:00", "2025-01-20"]
)
def test_naive_datetimes_are_rejected_on_decode(occurred_at: str) -> None:
    data = _wire()
    data["occurred_at"] = occurred_at

    with pytest.raises(ContractViolation, match="occurred_at"):
        decode(orjson.dumps(data))


def test_offset_datetimes_are_normalised_to_utc_on_decode() -> None:
    data = _wire()
    data["occurred_at"] = "2025-01-20T16:03:00+02:00"

    occurred_at = decode(orjson.dumps(data)).occurred_at

    assert occurred_at == AT
    assert occurred_at.utcoffset() == timedelta(0)
