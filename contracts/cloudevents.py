"""salesflow's envelope as a CloudEvent (CloudEvents 1.0, Kafka protocol binding).

Outbound, binary mode: every record salesflow publishes keeps its envelope as the value (the
CloudEvent's `data`, `application/json`) and carries the context attributes as `ce_*` headers,
derived from the envelope here and nowhere else (`binary_headers`).

Inbound, structured mode: a record whose `content-type` is `application/cloudevents+json` holds
one JSON CloudEvent whose `data` is the payload; `envelope_fields` maps it onto the envelope's
fields, which the envelope's own validation then judges like any other message.

Inbound, binary mode: the value must be the envelope, as in what salesflow publishes; the
`ce_id`, `ce_type` and `ce_subject` headers are held to the body like the other mirrored headers.
A value that is the bare payload is not guessed at (it would need a heuristic on its shape).

The rules, each applied in both directions:
- type    = "com.salesflow." + event_type   (lead.qualified <-> com.salesflow.lead.qualified)
- source  = "/salesflow/" + producer        (a source outside "/salesflow/" becomes the producer
            without its leading slashes: "/sap/s4" -> "sap/s4")
- id = event_id, subject = deal_id, time = occurred_at (RFC 3339, UTC, "Z")
- extensions `causationid` (causation_id) and `schemaversion` (schema_version; absent: the
  payload contract's current version).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Final
from uuid import UUID

from contracts.errors import ContractViolation
from contracts.registry import EVENT_TYPES

__all__ = [
    "CAUSATION_EXTENSION",
    "CONTENT_TYPE_HEADER",
    "FIELD_NAMES",
    "JSON",
    "SCHEMA_VERSION_EXTENSION",
    "SOURCE_PREFIX",
    "SPEC_VERSION",
    "STRUCTURED",
    "TYPE_PREFIX",
    "binary_headers",
    "ce_source",
    "ce_time",
    "ce_type",
    "envelope_fields",
    "event_type_of",
    "is_structured",
    "producer_of",
]

SPEC_VERSION: Final = "1.0"
TYPE_PREFIX: Final = "com.salesflow."
SOURCE_PREFIX: Final = "/salesflow/"
CONTENT_TYPE_HEADER: Final = "content-type"
JSON: Final = "application/json"
STRUCTURED: Final = "application/cloudevents+json"
CAUSATION_EXTENSION: Final = "causationid"
SCHEMA_VERSION_EXTENSION: Final = "schemaversion"

# How the envelope's fields are named in a CloudEvent, for error messages.
FIELD_NAMES: Final = (
    "id=event_id, type=event_type, subject=deal_id, time=occurred_at, source=producer, data=payload"
)

# Every attribute the mapping needs: CloudEvents requires the first four, salesflow the rest.
_REQUIRED: Final = ("specversion", "id", "source", "type", "subject", "time")


def ce_type(event_type: str) -> str:
    return TYPE_PREFIX + event_type


def event_type_of(cloud_type: str) -> str:
    """The event type a CloudEvent `type` names; raises `ContractViolation` for another's."""
    if not cloud_type.startswith(TYPE_PREFIX):
        raise ContractViolation(
            f"CloudEvent type {cloud_type[:80]!r} is not {TYPE_PREFIX}<event type>"
        )
    return cloud_type.removeprefix(TYPE_PREFIX)


def ce_source(producer: str) -> str:
    return SOURCE_PREFIX + producer


def producer_of(source: str) -> str:
    return source.removeprefix(SOURCE_PREFIX).lstrip("/")


def ce_time(occurred_at: datetime) -> str:
    """RFC 3339 in UTC with "Z" (the envelope holds UTC only)."""
    return occurred_at.isoformat().replace("+00:00", "Z")


def binary_headers(
    *, event_id: UUID, event_type: str, producer: str, occurred_at: datetime, deal_id: str
) -> list[tuple[str, bytes]]:
    """The Kafka binary-mode headers of an envelope with these fields."""
    return [
        _SPEC_VERSION_HEADER,
        ("ce_id", str(event_id).encode()),
        ("ce_type", _encoded_type(event_type)),
        ("ce_source", _encoded_source(producer)),
        ("ce_time", ce_time(occurred_at).encode()),
        ("ce_subject", deal_id.encode()),
        _CONTENT_TYPE_JSON_HEADER,
    ]


# Every published event carries these: the constant ones and the few types and sources are
# encoded once, not per event.
_SPEC_VERSION_HEADER: Final = ("ce_specversion", SPEC_VERSION.encode())
_CONTENT_TYPE_JSON_HEADER: Final = (CONTENT_TYPE_HEADER, JSON.encode())


@cache
def _encoded_type(event_type: str) -> bytes:
    return ce_type(event_type).encode()


@cache
def _encoded_source(producer: str) -> bytes:
    return ce_source(producer).encode()


def is_structured(content_type: str | None) -> bool:
    """Whether a record's `content-type` announces a structured-mode CloudEvent (parameters
    such as `; charset=utf-8` and letter case do not matter)."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == STRUCTURED


def envelope_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope's fields from a structured-mode CloudEvent, as JSON values for the envelope's
    validation. Raises `ContractViolation` for what is no CloudEvent salesflow can map."""
    missing = [name for name in _REQUIRED if not isinstance(event.get(name), str)]
    if missing:
        raise ContractViolation(f"CloudEvent: {', '.join(missing)} missing or not a string")
    if event["specversion"] != SPEC_VERSION:
        raise ContractViolation(
            f"CloudEvent: specversion {event['specversion'][:20]!r} is not {SPEC_VERSION!r}"
        )
    content_type = event.get("datacontenttype", JSON)
    if not isinstance(content_type, str) or content_type.split(";", 1)[0].strip() != JSON:
        raise ContractViolation(f"CloudEvent: datacontenttype must be {JSON!r}")
    if "data_base64" in event:
        raise ContractViolation("CloudEvent: data_base64 is not accepted, data must be JSON")
    data = event.get("data")
    if not isinstance(data, dict):
        raise ContractViolation("CloudEvent: data missing or not a JSON object (the payload)")
    event_type = event_type_of(event["type"])
    version = event.get(SCHEMA_VERSION_EXTENSION)
    if version is None:
        payload = EVENT_TYPES.get(event_type)
        version = payload.SCHEMA_VERSION if payload is not None else 1
    return {
        "event_id": event["id"],
        "event_type": event_type,
        "schema_version": version,
        "occurred_at": event["time"],
        "deal_id": event["subject"],
        "causation_id": event.get(CAUSATION_EXTENSION),
        "producer": producer_of(event["source"]),
        "payload": data,
    }
