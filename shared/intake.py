"""Reading one consumed Kafka record: the envelope inside it, or why it must be dead-lettered.

A record is an envelope, or a structured-mode CloudEvent when its `content-type` says so
(`contracts.cloudevents`). Everything a record can carry from an upstream system is judged here,
before any business code sees it: header names and values, the bytes, the envelope's contract,
whether its event type belongs on the topic, and whether its key and mirrored headers agree with
its body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord

from contracts import cloudevents
from contracts.envelope import Envelope, decode
from contracts.errors import InvalidMessage
from contracts.topics import kafka_key
from shared.deadletter import DeadLetterReason
from shared.messages import Incoming
from shared.tracing import TRACE_HEADERS

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

# Headers that repeat a field of the body for tools; a record whose copy contradicts its body
# is refused rather than trusted either way.
# The CloudEvents binary-mode headers are such copies too (`contracts.cloudevents`); ce_source
# and ce_time are not compared: one body has many correct spellings of them.
_MIRRORED: Mapping[str, Callable[[Envelope[Any]], str]] = {
    "event_type": lambda env: str(env.event_type),
    "event_id": lambda env: str(env.event_id),
    "deal_id": lambda env: str(env.deal_id),
    "ce_id": lambda env: str(env.event_id),
    "ce_type": lambda env: cloudevents.ce_type(env.event_type),
    "ce_subject": lambda env: str(env.deal_id),
}


class Intake:
    """Decodes and checks records of the topics a worker consumes."""

    def __init__(self, accepted: Mapping[str, frozenset[str]], max_message_bytes: int) -> None:
        self._accepted = accepted
        self._max_bytes = max_message_bytes

    def read(self, record: Record) -> Incoming[Any] | DeadLetterReason:
        bad_header = _bad_header(record)
        if bad_header is not None:
            return bad_header
        if record.value is None:
            return DeadLetterReason("not_json", "EmptyRecord", "record has no value")
        try:
            envelope = decode(
                record.value, max_bytes=self._max_bytes, content_type=content_type(record.headers)
            )
        except InvalidMessage as error:
            return DeadLetterReason.of(error.reason, error)
        accepted = self._accepted.get(record.topic, frozenset())
        if envelope.event_type not in accepted:
            return DeadLetterReason(
                "unexpected_event_type",
                "UnexpectedEventType",
                f"{envelope.event_type!r} is not carried by topic {record.topic!r}",
            )
        if record.key != kafka_key(envelope):
            # The key decides the partition; a record keyed otherwise than its deal (or not at
            # all: it lands on any partition) could overtake or trail the deal's other events,
            # so it is refused rather than guessed.
            detail = "record has no key" if record.key is None else "record key differs"
            return DeadLetterReason(
                "key_mismatch", "KeyMismatch", f"{detail}; its topic's key rule says otherwise"
            )
        for key, value in record.headers:
            expected = _MIRRORED.get(key)
            if expected is not None and value is not None and value.decode() != expected(envelope):
                return DeadLetterReason(
                    "header_mismatch", "HeaderMismatch", f"header {key!r} contradicts the body"
                )
        return Incoming(envelope, record.topic, record.partition, record.offset)


def content_type(headers: Iterable[tuple[str, bytes | None]]) -> str | None:
    """The record's `content-type` header (the last one; names compared without case, as
    HTTP's are): `application/cloudevents+json` makes it a structured-mode CloudEvent."""
    found = None
    for key, value in headers:
        if key.lower() == cloudevents.CONTENT_TYPE_HEADER and value is not None:
            found = value.decode("utf-8", "replace")
    return found


def _bad_header(record: Record) -> DeadLetterReason | None:
    for key, value in record.headers:
        if key in TRACE_HEADERS:
            # Observability only: a malformed trace context is ignored (shared.tracing starts a
            # new trace), never a reason to park a message.
            continue
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            # A name that is not UTF-8 reaches us surrogate-escaped (shared.tolerant_records).
            return DeadLetterReason("bad_header", "BadHeaderName", "a header name is not UTF-8")
        if value is None:
            return DeadLetterReason("bad_header", "NullHeader", f"header {key!r} is null")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return DeadLetterReason(
                "bad_header", "UnicodeDecodeError", f"header {key!r} is not UTF-8"
            )
    return None
