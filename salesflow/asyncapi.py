"""AsyncAPI 3.0 documents of salesflow, derived from the topic map and the committed schemas.

    python -m salesflow.asyncapi            # (re)write docs/asyncapi/*.json (`make asyncapi`)
    python -m salesflow.asyncapi --check    # exit 1 if a committed document is stale (`make lint`)

One document for the whole system (`salesflow.json`: operations as salesflow performs them, all
workers together) and one per worker (`<service>.json`: what that worker's principal reads and
writes, its consumer group). Every fact comes from where it is declared: channels from
`contracts.topics` (topic, event types, key rule, partitions, retention), message payloads from
the committed JSON Schemas (`contracts/schemas`), headers from what `contracts.envelope`
and `shared.deadletter` actually write, each worker's operations from its principal in
`contracts.access`, the security schemes from what `shared.kafka_security` can connect with.
`scripts/asyncapi.sh` validates the documents with the AsyncAPI parser (`make lint`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final, get_args
from uuid import UUID

from aiokafka import ConsumerRecord

from contracts.access import principal
from contracts.envelope import Envelope, kafka_headers, make_envelope
from contracts.registry import EVENT_TYPES
from contracts.schemagen import SCHEMA_DIR, example_payload
from contracts.stages import STAGES, Stage
from contracts.ticks import CLOCK_DEAL_ID
from contracts.topics import (
    ACCOUNT_KEY,
    ALL_TOPICS,
    CLOCK_KEY,
    CONTACT_KEY,
    DEAL_KEY,
    PRICE_ITEM_KEY,
    RATE_KEY,
    TopicKind,
    TopicSpec,
    kafka_key,
    topic,
    topic_for_event,
)
from shared.deadletter import DeadLetterReason, dead_letter
from shared.kafka_security import Mechanism
from shared.tracing import TRACEPARENT, TRACESTATE

__all__ = ["DOC_DIR", "check", "documents", "main", "render", "system_document", "worker_document"]

DOC_DIR: Final = Path(__file__).resolve().parent.parent / "docs" / "asyncapi"
SYSTEM_DOC: Final = "salesflow"
_ASYNCAPI: Final = "3.0.0"
_KAFKA_BINDING: Final = "0.5.0"
_DEAD_LETTER_MESSAGE: Final = "dead_letter"
_CONTENT_TYPE: Final = "application/json"

_PARTITIONER: Final = (
    "Partitioned by Kafka's default partitioner: murmur2 of the key's bytes, as the Java client "
    "and aiokafka do. A producer with another default (librdkafka, kcat, confluent-kafka) must "
    "set it to murmur2 (`partitioner=murmur2_random`), or one deal's records land on two "
    "partitions and lose their order."
)
# How each key rule of the topic map reads on the wire. A new rule without a line here fails
# the generator (and so `make lint`): an integrator must be told how to key.
_KEY_RULES: Final[Mapping[str, dict[str, Any]]] = {
    DEAL_KEY: {
        "type": "string",
        "description": "The envelope's `deal_id`, UTF-8: every message of one deal on one "
        "partition, in order.",
    },
    ACCOUNT_KEY: {
        "type": "string",
        "description": "The account id (the envelope's `deal_id` of master data), UTF-8.",
    },
    CONTACT_KEY: {
        "type": "string",
        "description": "The contact id (the envelope's `deal_id` of master data), UTF-8.",
    },
    PRICE_ITEM_KEY: {
        "type": "string",
        "pattern": "^[^:]+:.+$",
        "description": "`<price_list_id>:<sku>` of the payload, UTF-8: compaction keeps the "
        "latest record per price list item.",
    },
    RATE_KEY: {
        "type": "string",
        "pattern": "^[A-Z]{3}:[A-Z]{3}:[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "description": "`<from_currency>:<to_currency>:<valid_on>` of the payload, UTF-8: "
        "compaction keeps one rate per pair and day.",
    },
    CLOCK_KEY: {
        "type": "string",
        "enum": [CLOCK_DEAL_ID],
        "description": "Every tick has the same key, so ticks stay in order on one partition.",
    },
}

# What each header salesflow writes means. Names come from `kafka_headers` itself; a header it
# writes without a line here is still listed, with the generic text.
_HEADER_TEXTS: Final[Mapping[str, str]] = {
    "event_type": "Copy of the envelope's `event_type`, for tools.",
    "event_id": "Copy of the envelope's `event_id`, for tools.",
    "deal_id": "Copy of the envelope's `deal_id`, for tools.",
    "content-type": "Media type of the record's value.",
    "ce_specversion": "CloudEvents binary mode: the CloudEvents version.",
    "ce_id": "CloudEvents binary mode: the event id (the envelope's `event_id`).",
    "ce_type": "CloudEvents binary mode: the event type (the envelope's `event_type`).",
    "ce_source": "CloudEvents binary mode: the producer.",
    "ce_time": "CloudEvents binary mode: when it happened (the envelope's `occurred_at`).",
    "ce_subject": "CloudEvents binary mode: the deal (the envelope's `deal_id`).",
    TRACEPARENT: "W3C Trace Context: the span of the message that caused this event (written "
    "when its cause carried one or tracing is on; optional; a malformed one is ignored).",
    TRACESTATE: "W3C Trace Context: vendor state travelling with `traceparent` (optional).",
}
_HEADER_TEXT: Final = "Written by salesflow on every record it publishes."
_DLQ_HEADER_TEXTS: Final[Mapping[str, str]] = {
    "dlq.reason": "Stable machine code: not_json, schema_violation, unknown_event_type, "
    "oversized, unexpected_event_type, key_mismatch, header_mismatch, bad_header, "
    "processing_failed, ...",
    "dlq.error_class": "The class of the error that parked it.",
    "dlq.error": "What failed, without the record's values (at most 2000 characters).",
    "dlq.service": "The service that parked it.",
    "dlq.source_topic": "Where the record was read.",
    "dlq.source_partition": "Its partition there.",
    "dlq.source_offset": "Its offset there.",
    "dlq.first_seen": "When the service parked it (ISO 8601, UTC).",
}

_EXAMPLE_EVENT_ID: Final = UUID("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")
_EXAMPLE_TIME: Final = datetime(2025, 1, 20, 14, 3, tzinfo=UTC)
_EXAMPLE_UPSTREAM: Final = "upstream-system"


def _mechanism_scheme(mechanism: str) -> dict[str, Any]:
    kind = {"SCRAM-SHA-256": "scramSha256", "SCRAM-SHA-512": "scramSha512", "PLAIN": "plain"}
    return {
        "type": kind[mechanism],
        "description": f"SASL {mechanism}: SALESFLOW_KAFKA_SASL_MECHANISM={mechanism}, "
        "SALESFLOW_KAFKA_SASL_USERNAME and SALESFLOW_KAFKA_SASL_PASSWORD(_FILE); over TLS with "
        "SALESFLOW_KAFKA_SECURITY_PROTOCOL=SASL_SSL (the CA in SALESFLOW_KAFKA_SSL_CAFILE).",
    }


def _security_schemes() -> dict[str, dict[str, Any]]:
    """One scheme per SASL mechanism `KafkaSecurity` accepts, plus TLS client certificates."""
    schemes = {
        _scheme_id(mechanism): _mechanism_scheme(mechanism) for mechanism in get_args(Mechanism)
    }
    schemes["clientCertificate"] = {
        "type": "X509",
        "description": "TLS client certificate, when the brokers ask for one: "
        "SALESFLOW_KAFKA_SSL_CERTFILE and SALESFLOW_KAFKA_SSL_KEYFILE (PEM).",
    }
    return schemes


def _scheme_id(mechanism: str) -> str:
    return mechanism.lower().replace("-", "_")


def _servers() -> dict[str, Any]:
    scram = [
        {"$ref": f"#/components/securitySchemes/{_scheme_id(m)}"}
        for m in get_args(Mechanism)
        if m.startswith("SCRAM")
    ]
    every = [{"$ref": f"#/components/securitySchemes/{name}"} for name in _security_schemes()]
    return {
        "local": {
            "host": "127.0.0.1:{port}",
            "protocol": "kafka",
            "description": "The development broker of `infra/up.sh`: SASL_PLAINTEXT with SCRAM "
            "users per principal (`.local/salesflow.env` has the admin's).",
            "variables": {
                "port": {"default": "9092", "description": "SALESFLOW_KAFKA_PORT"},
            },
            "security": scram,
        },
        "local-tls": {
            "host": "127.0.0.1:{port}",
            "protocol": "kafka-secure",
            "description": "The same broker's SASL_SSL listener, its certificate signed by "
            "the local CA of `infra/up.sh` (SALESFLOW_KAFKA_SSL_CAFILE).",
            "variables": {
                "port": {
                    "default": "9094",
                    "description": "SALESFLOW_KAFKA_TLS_PORT (the client port + 2)",
                },
            },
            "security": scram,
        },
        "production": {
            "host": "{bootstrap}",
            "protocol": "kafka-secure",
            "description": "Your cluster (SALESFLOW_KAFKA_BOOTSTRAP), over TLS "
            "(SALESFLOW_KAFKA_SECURITY_PROTOCOL=SASL_SSL or SSL).",
            "variables": {
                "bootstrap": {
                    "default": "kafka.example.com:9093",
                    "description": "host:port of one or more brokers",
                },
            },
            "security": every,
        },
    }


# --- messages -------------------------------------------------------------------------------


def _committed_schema(event_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{event_type}.json").read_text(encoding="utf-8")
    )
    return schema


def _relocate(node: Any) -> Any:
    """The schema with its `#/$defs/...` references pointing into `components/schemas`."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/", 1)
                if key == "$ref" and isinstance(value, str)
                else _relocate(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_relocate(item) for item in node]
    return node


def _schemas(event_types: Iterable[str]) -> dict[str, Any]:
    """components/schemas: the envelope of each event type (named by it) and its definitions."""
    schemas: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for event_type in event_types:
        committed = _committed_schema(event_type)
        for name, definition in committed.pop("$defs", {}).items():
            relocated = _relocate(definition)
            if definitions.setdefault(name, relocated) != relocated:
                raise ValueError(f"two different definitions named {name!r} in the schemas")
        committed.pop("$schema", None)
        schemas[event_type] = _relocate(committed)
    clash = set(schemas) & set(definitions)
    if clash:
        raise ValueError(f"definitions named like event types: {sorted(clash)}")
    return schemas | dict(sorted(definitions.items()))


def _example_envelope(event_type: str, spec: TopicSpec) -> Envelope[Any]:
    model = EVENT_TYPES[event_type]
    payload = model.model_validate(example_payload(model))
    fields = payload.model_dump(mode="json")
    # Records that belong to no deal carry their own id as the deal id (contracts.envelope).
    deal_id = {
        ACCOUNT_KEY: fields.get(ACCOUNT_KEY),
        CONTACT_KEY: fields.get(CONTACT_KEY),
        PRICE_ITEM_KEY: fields.get("price_list_id"),
        RATE_KEY: ":".join(
            str(fields.get(f)) for f in ("from_currency", "to_currency", "valid_on")
        ),
        CLOCK_KEY: CLOCK_DEAL_ID,
    }.get(spec.key_rule) or "L-2024-000123"
    return make_envelope(
        payload,
        event_type=event_type,
        deal_id=deal_id,
        producer=_EXAMPLE_UPSTREAM if spec.kind is TopicKind.INBOUND else spec.owner,
        occurred_at=_EXAMPLE_TIME,
        event_id=_EXAMPLE_EVENT_ID,
    )


def _header_schema(names: Iterable[str], *, event_type: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    # the relay adds the trace context of the event's cause (shared.tracing) to what
    # kafka_headers writes
    for name in (*names, TRACEPARENT, TRACESTATE):
        prop: dict[str, Any] = {
            "type": "string",
            "description": _HEADER_TEXTS.get(name, _HEADER_TEXT),
        }
        if name == "event_type" and event_type is not None:
            prop["enum"] = [event_type]
        properties[name] = prop
    return {
        "type": "object",
        "description": "Kafka headers, UTF-8 strings. Consumers read the body, never these; a "
        "record whose mirrored header contradicts the body is dead-lettered (header_mismatch). "
        "salesflow writes them on every record it publishes; upstream systems may omit them.",
        "properties": properties,
    }


def _message(event_type: str) -> dict[str, Any]:
    spec = topic_for_event(event_type)
    envelope = _example_envelope(event_type, spec)
    headers = [(name, value.decode()) for name, value in kafka_headers(envelope)]
    model = EVENT_TYPES[event_type]
    summary = (model.__doc__ or event_type).strip().split("\n\n")[0].replace("\n", " ")
    return {
        "name": event_type,
        "title": event_type,
        "summary": " ".join(summary.split()),
        "contentType": _CONTENT_TYPE,
        "correlationId": {"$ref": "#/components/correlationIds/deal"},
        "headers": _header_schema((name for name, _ in headers), event_type=event_type),
        "payload": {"$ref": f"#/components/schemas/{event_type}"},
        "bindings": {
            "kafka": {"key": _key_schema(spec.key_rule), "bindingVersion": _KAFKA_BINDING}
        },
        "examples": [
            {
                "name": event_type.replace(".", "_"),
                "summary": f"Kafka key: {kafka_key(envelope).decode()}",
                "headers": dict(headers),
                "payload": envelope.model_dump(mode="json"),
            }
        ],
    }


def _key_schema(rule: str) -> dict[str, Any]:
    try:
        schema = dict(_KEY_RULES[rule])
    except KeyError:
        raise ValueError(f"key rule {rule!r} has no AsyncAPI description") from None
    schema["description"] = f"{schema['description']} {_PARTITIONER}"
    return schema


def _dead_letter_message() -> dict[str, Any]:
    # The dlq.* headers as `shared.deadletter` writes them, read off a real dead-letter entry.
    record = ConsumerRecord(
        topic="lead.captured",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=b"",
        value=b"",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )
    entry = dead_letter(
        record,
        DeadLetterReason("schema_violation", "ContractViolation", ""),
        topic="lead_svc.dlq",
        service="lead_svc",
        seen_at=_EXAMPLE_TIME,
    )
    names = [name for name, _ in entry.headers]
    return {
        "name": _DEAD_LETTER_MESSAGE,
        "title": "dead letter",
        "summary": "A record its service could never process: the original key, value and "
        "headers byte for byte, plus dlq.* headers saying why and where it failed. "
        "`salesflow dlq redrive` sends it back to its source topic.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "description": "The original record's headers, plus these (UTF-8 strings).",
            "properties": {
                name: {"type": "string", "description": _DLQ_HEADER_TEXTS.get(name, "")}
                for name in names
            },
            "required": names,
        },
        "payload": {"description": "The original record's value, unchanged (possibly not JSON)."},
        "bindings": {
            "kafka": {
                "key": {"description": "The original record's key, unchanged."},
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


# --- channels and operations ----------------------------------------------------------------


def _message_ids(spec: TopicSpec) -> tuple[str, ...]:
    return spec.event_types if spec.kind is not TopicKind.DEAD_LETTER else (_DEAD_LETTER_MESSAGE,)


def _channel(spec: TopicSpec) -> dict[str, Any]:
    readers = ", ".join(spec.readers) or "no salesflow worker"
    key = "the original record's" if spec.kind is TopicKind.DEAD_LETTER else spec.key_rule
    # the binding's types: the cleanup policy a list, sizes and times numbers, names strings
    configs: dict[str, Any] = {
        name: [value]
        if name == "cleanup.policy"
        else int(value)
        if value.lstrip("-").isdigit()
        else value
        for name, value in spec.configs.items()
    }
    return {
        "address": spec.name,
        "title": spec.name,
        "description": f"{spec.kind.value.replace('_', '-')} topic owned by {spec.owner}; "
        f"read by {readers}. Key: {key}.",
        "messages": {
            message: {"$ref": f"#/components/messages/{message}"} for message in _message_ids(spec)
        },
        "bindings": {
            "kafka": {
                "partitions": spec.partitions,
                "topicConfiguration": configs,
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _operation(
    action: str, spec: TopicSpec, description: str, group_id: str | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{spec.name}"},
        "summary": description,
        "messages": [
            {"$ref": f"#/channels/{spec.name}/messages/{message}"} for message in _message_ids(spec)
        ],
    }
    if group_id is not None:
        operation["bindings"] = {
            "kafka": {
                "groupId": {"type": "string", "enum": [group_id]},
                "bindingVersion": _KAFKA_BINDING,
            }
        }
    return operation


def _services_reading(spec: TopicSpec) -> list[str]:
    return [s.service for s in STAGES if spec.name in principal(s.service).reads]


def _services_writing(spec: TopicSpec) -> list[str]:
    return [s.service for s in STAGES if spec.name in principal(s.service).writes]


def _document(
    *,
    doc_id: str,
    title: str,
    description: str,
    topics: Sequence[TopicSpec],
    operations: Mapping[str, Any],
) -> dict[str, Any]:
    event_types = [t for spec in topics for t in spec.event_types]
    messages: dict[str, Any] = {t: _message(t) for t in event_types}
    if any(spec.kind is TopicKind.DEAD_LETTER for spec in topics):
        messages[_DEAD_LETTER_MESSAGE] = _dead_letter_message()
    return {
        "asyncapi": _ASYNCAPI,
        "id": doc_id,
        "info": {
            "title": title,
            "version": version("salesflow"),
            "description": description,
        },
        "servers": _servers(),
        "defaultContentType": _CONTENT_TYPE,
        "channels": {spec.name: _channel(spec) for spec in topics},
        "operations": dict(operations),
        "components": {
            "schemas": _schemas(event_types),
            "messages": messages,
            "securitySchemes": _security_schemes(),
            "correlationIds": {
                "deal": {
                    "description": "Every message of one deal carries the id of the lead that "
                    "started it (also the Kafka key of deal topics); `causation_id` names the "
                    "message that caused this one.",
                    "location": "$message.payload#/deal_id",
                }
            },
        },
    }


_ABOUT: Final = (
    "Every message is a JSON envelope (`event_id`, `event_type`, `schema_version`, "
    "`occurred_at`, `deal_id`, `causation_id`, `producer`, `payload`); its JSON Schema per event "
    "type is committed in contracts/schemas and reproduced here. `event_id` is the idempotency "
    "key: a message delivered twice has one effect. Readers are tolerant (unknown fields are "
    "ignored); contracts only grow (new fields optional, a breaking change is a new event type). "
    "A record the consumer cannot accept (not JSON, schema violation, unknown event type, wrong "
    "key) goes to the service's dead-letter topic; a well-formed command that does not fit the "
    "deal's state is answered on the stage's `*.rejected` topic."
)


def _ordered(specs: Iterable[TopicSpec]) -> list[TopicSpec]:
    names = {spec.name for spec in specs}
    return [spec for spec in ALL_TOPICS if spec.name in names]


def system_document() -> dict[str, Any]:
    """salesflow as one application: what its workers receive and send."""
    received = [spec for spec in ALL_TOPICS if _services_reading(spec)]
    sent = [spec for spec in ALL_TOPICS if _services_writing(spec)]
    operations: dict[str, Any] = {}
    for spec in received:
        operations[f"receive.{spec.name}"] = _operation(
            "receive", spec, f"Consumed by {', '.join(_services_reading(spec))}."
        )
    for spec in sent:
        operations[f"send.{spec.name}"] = _operation(
            "send", spec, f"Published by {', '.join(_services_writing(spec))}."
        )
    return _document(
        doc_id="urn:salesflow",
        title=SYSTEM_DOC,
        description="The sales lifecycle (lead, quote, order, invoice) over Apache Kafka: every "
        "topic, what salesflow consumes and what it publishes. Topics nobody in salesflow reads "
        "are for you to consume. " + _ABOUT,
        topics=_ordered([*ALL_TOPICS]),
        operations=operations,
    )


def worker_document(stage: Stage) -> dict[str, Any]:
    """One worker as its Kafka principal sees the topics: what it reads, in its group, and
    writes."""
    service = stage.service
    who = principal(service)
    reads = [topic(name) for name in who.reads]
    writes = [topic(name) for name in who.writes]
    operations: dict[str, Any] = {}
    for spec in reads:
        operations[f"receive.{spec.name}"] = _operation(
            "receive", spec, f"{service} consumes it in group {stage.group_id}.", stage.group_id
        )
    for spec in writes:
        operations[f"send.{spec.name}"] = _operation("send", spec, f"{service} publishes it.")
    return _document(
        doc_id=f"urn:salesflow:{service}",
        title=f"{SYSTEM_DOC} {service}",
        description=f"The {stage.name} stage ({stage.owns}). {stage.does} It connects as the "
        f"Kafka principal User:{service}, whose ACLs allow exactly these operations. " + _ABOUT,
        topics=_ordered([*reads, *writes]),
        operations=operations,
    )


def documents() -> dict[str, dict[str, Any]]:
    """File stem -> document: the system's, then each worker's."""
    return {SYSTEM_DOC: system_document()} | {s.service: worker_document(s) for s in STAGES}


def render(document: Mapping[str, Any]) -> str:
    """Stable text form; keys in the order AsyncAPI readers expect (not sorted)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _files() -> Iterator[tuple[str, str]]:
    for stem, document in documents().items():
        yield f"{stem}.json", render(document)


def check(directory: Path = DOC_DIR) -> list[str]:
    """Problems: documents missing, stale or orphaned in `directory`."""
    problems = []
    expected = dict(_files())
    for name, content in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path}: missing (run make asyncapi)")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{path}: differs from the generated document (run make asyncapi)")
    problems.extend(
        f"{path}: no such document any more (delete it)"
        for path in sorted(directory.glob("*.json"))
        if path.name not in expected
    )
    return problems


def write(directory: Path = DOC_DIR) -> list[Path]:
    """Write every document; delete documents of workers that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = dict(_files())
    for path in directory.glob("*.json"):
        if path.name not in expected:
            path.unlink()
    paths = []
    for name, content in expected.items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesflow.asyncapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    parser.add_argument("--dir", type=Path, default=DOC_DIR, help="document directory")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.dir)
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        return 1 if problems else 0
    for path in write(args.dir):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
