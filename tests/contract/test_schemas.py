"""The committed JSON Schemas are the compatibility baseline; ``breaking_changes`` guards it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import BaseModel

from contracts.compat import breaking_changes
from contracts.envelope import Envelope, envelope_type
from contracts.registry import EVENT_TYPES
from contracts.schemagen import SCHEMA_DIR, check, envelope_schema, example_payload, main


def _committed(event_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text("utf-8"))
    return schema


# --- the committed baseline -----------------------------------------------------------------


def test_committed_schemas_equal_the_generated_ones() -> None:
    # On failure: run `python -m contracts.schemagen`, review the diff, commit it consciously.
    assert check() == []
    assert main(["--check"]) == 0


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_current_schema_is_compatible_with_the_committed_one(event_type: str) -> None:
    assert breaking_changes(_committed(event_type), envelope_schema(event_type)) == []


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_schema_pins_its_event_type(event_type: str) -> None:
    schema = _committed(event_type)

    assert schema["title"] == event_type
    assert schema["properties"]["event_type"]["const"] == event_type
    assert set(schema["required"]) >= {"event_id", "event_type", "deal_id", "payload"}


def test_decimals_are_strings_in_the_schema() -> None:
    price = _committed("catalog.price_upserted")["$defs"]["PriceListItemUpserted"]["properties"]

    assert price["unit_price"]["type"] == "string"
    assert price["unit_price"]["pattern"] == r"^[0-9]{1,20}(\.[0-9]{1,12})?$"
    assert price["tax_rate"]["pattern"] == r"^(0(\.[0-9]{1,12})?|1(\.0{1,12})?)$"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_schema_example_payload_is_valid_for_a_strict_producer(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]

    assert isinstance(cls.model_validate(example_payload(cls)), cls)


def _models(root: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    pending = [root]
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.add(model)
        for field in model.model_fields.values():
            stack: list[Any] = [field.annotation]
            while stack:
                tp = stack.pop()
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    pending.append(tp)
                stack.extend(getattr(tp, "__args__", ()))
    return found


def test_every_field_has_a_description_and_examples() -> None:
    models = set().union(*(_models(envelope_type(t)) for t in EVENT_TYPES))
    undocumented = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not field.description or (not field.examples and not issubclass(model, Envelope))
    ]

    assert len(models) > 30
    assert undocumented == []


# --- breaking_changes itself ----------------------------------------------------------------

BASE: dict[str, Any] = {
    "$defs": {
        "Contact": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 200},
                "email": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            },
            "required": ["name"],
        },
        "Status": {"type": "string", "enum": ["open", "won", "lost"]},
    },
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "count": {"type": "integer", "minimum": 1},
        "amount": {"type": "string", "pattern": r"^[0-9]+$"},
        "status": {"$ref": "#/$defs/Status"},
        "contact": {"$ref": "#/$defs/Contact", "description": "who"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["id", "count", "status", "contact"],
}


def _changed(path: str, value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    """A copy of BASE with the node at ``path`` (slash-separated) replaced or deleted."""
    schema = copy.deepcopy(BASE)
    *parents, last = path.split("/")
    node: Any = schema
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return schema


def test_identical_schemas_have_no_breaking_changes() -> None:
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_removed_property_is_breaking() -> None:
    assert breaking_changes(BASE, _changed("properties/note", delete=True)) == [
        "note: property removed"
    ]


def test_removed_property_inside_a_referenced_definition_is_breaking() -> None:
    new = _changed("$defs/Contact/properties/email", delete=True)

    assert breaking_changes(BASE, new) == ["contact.email: property removed"]


def test_changed_type_is_breaking() -> None:
    new = _changed("properties/count", {"type": "string"})

    assert breaking_changes(BASE, new) == ["count: type changed from integer to string"]


def test_widened_number_type_is_compatible() -> None:
    assert breaking_changes(BASE, _changed("properties/count", {"type": "number"})) == []


def test_nullable_becoming_non_nullable_is_breaking() -> None:
    new = _changed("properties/note", {"type": "string"})

    assert breaking_changes(BASE, new) == ["note: type narrowed: null is no longer accepted"]


def test_becoming_nullable_is_compatible() -> None:
    new = _changed(
        "properties/id", {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
    )

    assert breaking_changes(BASE, new) == []


def test_new_required_property_is_breaking() -> None:
    new = _changed("properties/region", {"type": "string"})
    new["required"] = [*BASE["required"], "region"]

    assert breaking_changes(BASE, new) == ["region: new required property"]


def test_optional_property_becoming_required_is_breaking() -> None:
    new = _changed("required", [*BASE["required"], "note"])

    assert breaking_changes(BASE, new) == ["note: property became required"]


def test_new_optional_property_is_compatible() -> None:
    new = _changed("properties/region", {"anyOf": [{"type": "string"}, {"type": "null"}]})
    new["$defs"]["Contact"]["properties"]["phone"] = {"type": "string"}

    assert breaking_changes(BASE, new) == []


def test_removed_enum_value_is_breaking() -> None:
    new = _changed("$defs/Status/enum", ["open", "won"])

    assert breaking_changes(BASE, new) == ["status: enum values removed: ['lost']"]


def test_added_enum_value_is_compatible() -> None:
    assert breaking_changes(BASE, _changed("$defs/Status/enum", ["open", "won", "lost", "x"])) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "properties/amount/pattern",
            r"^[0-9]{1,5}$",
            "amount: pattern changed from '^[0-9]+$' to '^[0-9]{1,5}$'",
        ),
        ("properties/count/minimum", 2, "count: minimum tightened from 1 to 2"),
        ("properties/count/maximum", 99, "count: maximum tightened from None to 99"),
        (
            "$defs/Contact/properties/name/maxLength",
            100,
            "contact.name: maxLength tightened from 200 to 100",
        ),
        (
            "properties/tags/items",
            {"type": "integer"},
            "tags[]: type changed from string to integer",
        ),
        ("properties/tags/maxItems", 3, "tags: maxItems tightened from None to 3"),
        ("properties/id/format", "uri", "id: format changed from 'uuid' to 'uri'"),
        (
            "$defs/Contact/additionalProperties",
            False,
            "contact: additional properties no longer allowed",
        ),
        ("properties/note/anyOf/0/const", "x", "note: restricted to the constant 'x'"),
    ],
)
def test_stricter_constraints_are_breaking(path: str, value: Any, expected: str) -> None:
    assert breaking_changes(BASE, _changed(path, value)) == [expected]


def test_looser_constraints_are_compatible() -> None:
    new = _changed("properties/count/minimum", 0)
    new["$defs"]["Contact"]["properties"]["name"]["maxLength"] = 500
    del new["properties"]["amount"]["pattern"]

    assert breaking_changes(BASE, new) == []


def test_all_changes_are_reported_together() -> None:
    new = _changed("properties/note", delete=True)
    new["$defs"]["Status"]["enum"] = ["open"]

    assert sorted(breaking_changes(BASE, new)) == [
        "note: property removed",
        "status: enum values removed: ['won', 'lost']",
    ]


def test_recursive_definitions_terminate() -> None:
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
        "$ref": "#/$defs/Node",
    }

    assert breaking_changes(tree, copy.deepcopy(tree)) == []


def test_a_real_payload_change_is_caught() -> None:
    old = envelope_schema("lead.captured")
    new = copy.deepcopy(old)
    del new["$defs"]["ContactInfo"]["properties"]["email"]
    new["$defs"]["LeadSource"]["enum"].remove("partner")

    assert sorted(breaking_changes(old, new)) == [
        "payload.contact.email: property removed",
        "payload.source: enum values removed: ['partner']",
    ]
