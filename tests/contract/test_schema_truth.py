"""The committed schemas state every rule decoding enforces: a schema-valid inbound message is
never dead-lettered as invalid.

Payloads are generated from each committed inbound schema (hypothesis-jsonschema) and run through
the consumers' own decoding (``contracts.envelope.decode``, what ``shared.intake`` calls). A
refusal means the schema promises more than the code accepts: state the rule in the model
(json_schema_extra next to the validator, or a constrained type), regenerate, and re-run.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any, Final

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema
from pydantic import TypeAdapter, ValidationError

from contracts.base import INT64_MAX, POSITIVE_DECIMAL_PATTERN, CurrencyCode
from contracts.compat import breaking_changes
from contracts.envelope import decode
from contracts.errors import ContractViolation
from contracts.money import MINOR_UNITS
from contracts.parties import COUNTRIES, CountryCode
from contracts.registry import EVENT_TYPES
from contracts.schemagen import SCHEMA_DIR, example_payload
from contracts.topics import ALL_TOPICS, TopicKind

INBOUND_TYPES: Final = sorted(
    {
        event_type
        for spec in ALL_TOPICS
        if spec.kind is TopicKind.INBOUND
        for event_type in spec.event_types
    }
)
# Each schema is slow to draw from (hypothesis-jsonschema re-canonicalises sub-schemas per draw):
# a few examples per event type, fresh ones on every run, keep the whole test near half a minute.
EXAMPLES_PER_TYPE: Final = 5


def _committed(event_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text("utf-8"))
    return schema


def _narrowed(node: Any) -> Any:
    """The schema with fewer instances, every one still valid under the committed schema: no
    unknown properties (consumers ignore them anyway), at most 3 items per array, and at most
    8 values of a long enum (``test_code_enums_are_the_accepted_codes`` checks every value).
    Drawing from the full schema is too slow to run on every commit."""
    if isinstance(node, list):
        return [_narrowed(item) for item in node]
    if not isinstance(node, dict):
        return node
    narrowed = {key: _narrowed(value) for key, value in node.items()}
    if narrowed.get("type") == "object" and "properties" in narrowed:
        narrowed["additionalProperties"] = False
    if narrowed.get("type") == "array":
        narrowed["maxItems"] = min(narrowed.get("maxItems", 3), 3)
    values = narrowed.get("enum", ())
    if len(values) > 8:
        narrowed["enum"] = values[:: len(values) // 8 + 1]
    return narrowed


_POSITIVE_AMOUNT = jsonschema.Draft202012Validator({"pattern": POSITIVE_DECIMAL_PATTERN})


def _rules_beyond_json_schema(event_type: str, message: dict[str, Any]) -> None:
    """Apply the few rules JSON Schema cannot state (each one says so in its field's
    description); any other refusal is a schema that promises too much."""
    payload = message["payload"]
    if event_type == "invoice.record_payment" and payload.get("allocations"):
        # "the amount applied to each, summing to `amount`"
        total = sum(Decimal(allocation["amount"]) for allocation in payload["allocations"])
        payload["amount"] = format(total, "f")
        assume(_POSITIVE_AMOUNT.is_valid(payload["amount"]))


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_every_schema_valid_inbound_message_is_decoded(event_type: str) -> None:
    schema = _committed(event_type)
    validator = jsonschema.Draft202012Validator(schema)

    @settings(
        max_examples=EXAMPLES_PER_TYPE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(from_schema(_narrowed(schema)))
    def decodes(message: dict[str, Any]) -> None:
        _rules_beyond_json_schema(event_type, message)
        validator.validate(message)  # the narrowing and the rules above kept it schema-valid
        # stdlib json: a producer may write integers beyond 64 bits and any Unicode text
        decode(json.dumps(message, ensure_ascii=False).encode())

    decodes()


def test_inbound_event_types_are_all_covered() -> None:
    assert len(INBOUND_TYPES) == 31
    assert all((SCHEMA_DIR / f"{event_type}.json").exists() for event_type in INBOUND_TYPES)


# --- the rules one by one ----------------------------------------------------------------------


def _message(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": "2025-01-20T14:03:00Z",
        "deal_id": "L-2024-000123",
        "producer": "web-forms",
        "payload": payload,
    }


_QUALIFY: Final = example_payload(EVENT_TYPES["lead.qualify"])


def test_a_nul_character_is_refused_at_validation_with_the_reason() -> None:
    message = _message("lead.qualify", {**_QUALIFY, "note": "budget\x00confirmed"})
    schema = _committed("lead.qualify")
    assert not jsonschema.Draft202012Validator(schema).is_valid(message)
    with pytest.raises(ContractViolation) as refused:
        decode(json.dumps(message).encode())
    assert refused.value.reason == "schema_violation"
    assert "payload.note" in str(refused.value)
    assert "NUL character" in str(refused.value)
    # the same message without it is accepted
    decode(json.dumps(_message("lead.qualify", _QUALIFY)).encode())


def test_integers_beyond_64_bits_are_refused_and_the_schema_says_so() -> None:
    schema = _committed("lead.qualify")
    assert schema["properties"]["schema_version"]["maximum"] == INT64_MAX
    message = {**_message("lead.qualify", _QUALIFY), "schema_version": INT64_MAX + 1}
    assert not jsonschema.Draft202012Validator(schema).is_valid(message)
    with pytest.raises(ContractViolation):
        decode(json.dumps(message).encode())


@pytest.mark.parametrize(
    ("code_type", "accepted", "refused"),
    [(CurrencyCode, MINOR_UNITS.keys(), "XXX"), (CountryCode, COUNTRIES, "XX")],
)
def test_code_enums_are_the_accepted_codes(code_type: Any, accepted: Any, refused: str) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(code_type)
    assert adapter.json_schema()["enum"] == sorted(accepted)
    for code in accepted:
        assert adapter.validate_python(code) == code
    with pytest.raises(ValidationError):
        adapter.validate_python(refused)


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        # a payment names no invoice
        (
            "invoice.record_payment",
            {
                "payment_id": "PAY-1",
                "amount": "1.00",
                "currency": "EUR",
                "paid_at": "2025-02-14T09:30:00Z",
                "invoice_id": None,
            },
        ),
        # a write-in revise line without its price
        (
            "quote.revise",
            {
                "quote_id": "6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e",
                "requested_by": "rep",
                "lines": [{"description": "Installation", "quantity": "1", "tax_rate": "0.19"}],
            },
        ),
    ],
)
def test_either_or_rules_refuse_in_the_schema_what_decoding_refuses(
    event_type: str, payload: dict[str, Any]
) -> None:
    message = _message(event_type, payload)
    assert not jsonschema.Draft202012Validator(_committed(event_type)).is_valid(message)
    with pytest.raises(ContractViolation):
        decode(json.dumps(message).encode())


def test_the_gate_reports_a_new_rule_across_fields_and_reads_the_model_around_it() -> None:
    new = _committed("invoice.apply_credit")
    old = copy.deepcopy(new)
    del old["$defs"]["ApplyCredit"]["anyOf"]
    assert breaking_changes(old, new) == ["payload: rule across fields added (anyOf)"]
    # the rule is not a union: a property removed beside it is still seen
    del old["$defs"]["ApplyCredit"]["properties"]["application_id"]
    old["$defs"]["ApplyCredit"]["anyOf"] = new["$defs"]["ApplyCredit"]["anyOf"]
    assert breaking_changes(new, old) == ["payload.application_id: property removed"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: an OverflowError escaped decoding
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "0000-06-01T00:00:00Z",  # year 0
        "2025-06-30T23:59:60Z",  # a leap second
    ],
)
def test_times_python_cannot_hold_are_refused_and_the_schema_says_so(occurred_at: str) -> None:
    message = {**_message("lead.qualify", _QUALIFY), "occurred_at": occurred_at}
    assert not jsonschema.Draft202012Validator(_committed("lead.qualify")).is_valid(message)
    with pytest.raises(ContractViolation):
        decode(json.dumps(message).encode())


def test_a_date_in_year_0_is_refused_by_the_schema_too() -> None:
    payload = {
        **example_payload(EVENT_TYPES["invoice.register_external"]),
        "due_date": "0000-03-02",
    }
    message = _message("invoice.register_external", payload)
    schema = _committed("invoice.register_external")
    assert not jsonschema.Draft202012Validator(schema).is_valid(message)
    with pytest.raises(ContractViolation):
        decode(json.dumps(message).encode())


def test_an_id_that_is_no_uuid_is_refused_by_the_schema_not_only_by_its_format() -> None:
    message = {**_message("lead.qualify", _QUALIFY), "event_id": "not-a-uuid"}
    # without format assertion, as most validators read a schema by default
    assert not jsonschema.Draft202012Validator(_committed("lead.qualify")).is_valid(message)
    with pytest.raises(ContractViolation):
        decode(json.dumps(message).encode())
