"""What flows through the runtime: a decoded inbound message and an outgoing Kafka record."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson

from contracts.base import Payload
from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.topics import kafka_key, topic_for_event
from shared.measures import amount_of

Headers = Sequence[tuple[str, bytes | None]]

P_co = TypeVar("P_co", bound=Payload, covariant=True)


@dataclass(frozen=True, slots=True)
class Incoming(Generic[P_co]):
    """An inbound envelope with the Kafka coordinates it was read from.

    Generic over the payload, so that a handler declared for `Incoming[LeadCaptured]` is checked
    by mypy against what it reads; the handler table test holds each handler's declared payload
    against the event type it is registered for.
    """

    envelope: Envelope[P_co]
    topic: str
    partition: int
    offset: int
    # The W3C context (shared.tracing) that what this message causes is stamped with; None: none.
    trace: str | None = None

    @property
    def event_id(self) -> UUID:
        return self.envelope.event_id

    @property
    def event_type(self) -> str:
        return self.envelope.event_type

    @property
    def deal_id(self) -> str:
        return self.envelope.deal_id

    @property
    def payload(self) -> P_co:
        return self.envelope.payload


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to publish, as stored in the outbox: already encoded, key and headers set."""

    topic: str
    key: bytes | None
    payload: bytes | None
    headers: Headers
    event_type: str = ""
    # The money the event carries, for the business metrics (shared.measures); None: none.
    amount: tuple[str, float] | None = None
    # The W3C context of what caused it (shared.tracing): stored with the outbox row, sent by the
    # relay as `traceparent`/`tracestate` headers. None: sent without them.
    trace: str | None = None

    @classmethod
    def of(
        cls, envelope: Envelope[Any], topic: str | None = None, *, trace: str | None = None
    ) -> Outgoing:
        """An event for its registered topic, keyed by its topic's rule (the deal id: per-deal
        ordering)."""
        return cls(
            topic=topic or topic_for_event(envelope.event_type).name,
            key=kafka_key(envelope),
            payload=encode(envelope),
            headers=kafka_headers(envelope),
            event_type=envelope.event_type,
            amount=amount_of(envelope.payload),
            trace=trace,
        )

    @property
    def is_rejection(self) -> bool:
        return self.event_type.endswith(".rejected")


def pack_headers(headers: Headers) -> str:
    return orjson.dumps(
        [[k, None if v is None else base64.b64encode(v).decode()] for k, v in headers]
    ).decode()


def unpack_headers(packed: str) -> list[tuple[str, bytes | None]]:
    return [(k, None if v is None else base64.b64decode(v)) for k, v in orjson.loads(packed)]


def caused_by(
    cause: Incoming[Payload],
    payload: Payload,
    *,
    producer: str,
    now: datetime,
    event_type: str | None = None,
    deal_id: str | None = None,
) -> Outgoing:
    """An outgoing event that `cause` led to: same deal (so same key and partition) unless it
    is about another deal's document (`deal_id`), causation set to the cause's event id,
    stamped `now`, in the cause's trace."""
    envelope = make_envelope(
        payload,
        event_type=event_type or type(payload).EVENT_TYPE,
        deal_id=deal_id or cause.deal_id,
        producer=producer,
        occurred_at=now,
        causation_id=cause.event_id,
    )
    return Outgoing.of(envelope, trace=cause.trace)
