"""What the gateway accepts and how a request becomes an envelope.

The accepted event types are the inbound ones of the topic map (`contracts.topics`): a new
command there is a new route here, with nothing to list by hand. A request's body is the
command's payload plus the deal it belongs to; the envelope is built and validated by the same
contracts a Kafka producer's would be (strict: a field the contract does not declare is refused).

Idempotency: with an `Idempotency-Key` the event id is derived from the client and the key
(UUIDv5), so a retried request carries the same event id as the first; the gateway's inbox
answers it without publishing again, and every consumer's inbox would drop it anyway. The
request's fingerprint tells a retry from a different request reusing a key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final
from uuid import UUID, uuid4, uuid5

import orjson
from pydantic import BaseModel, ConfigDict, Field, create_model

from contracts.base import AwareUtc, ExternalId, Payload
from contracts.envelope import Envelope, make_envelope
from contracts.registry import payload_type
from contracts.topics import ALL_TOPICS, TopicKind, TopicSpec

INBOUND_TOPICS: Final[tuple[TopicSpec, ...]] = tuple(
    spec for spec in ALL_TOPICS if spec.kind is TopicKind.INBOUND
)
INBOUND_EVENT_TYPES: Final[tuple[str, ...]] = tuple(
    event_type for spec in INBOUND_TOPICS for event_type in spec.event_types
)

# Fixed for ever: changing it would give a retried request a new event id.
_NAMESPACE: Final = UUID("6a4c1f3e-2d5b-5e8a-9c7f-0b1d2e3f4a5b")
MAX_IDEMPOTENCY_KEY = 255

# Where the deal id is when the request does not say: a lead is its own deal; master data and
# account-level money (refunds, credit applied) are keyed by the account (or, to create one, by
# the sender's own ref); a price list item by its price list.
_DEAL_FIELDS: Final = ("lead_id", "account_id", "external_ref", "price_list_id")


class CommandRequest(BaseModel):
    """The body of `POST /v1/commands/{event_type}`: the payload and the deal it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: ExternalId | None = Field(
        default=None,
        description="The deal (the id of the lead that started it), which is also the Kafka "
        "key. May be left out when the payload names it: a lead command's `lead_id`, an account "
        "command's `account_id` (or `external_ref`), a refund's or credit's `account_id`, a "
        "price's `price_list_id`.",
        examples=["L-2024-000123"],
    )
    occurred_at: AwareUtc | None = Field(
        default=None,
        description="When the command was issued; default: when the gateway received it.",
        examples=["2026-12-01T09:00:00Z"],
    )
    payload: Any


def _request_model(event_type: str) -> type[CommandRequest]:
    cls = payload_type(event_type)
    name = "".join(part.title() for part in event_type.replace("_", ".").split(".")) + "Request"
    model: type[CommandRequest] = create_model(
        name,
        __base__=CommandRequest,
        __doc__=f"A `{event_type}` command: {cls.__doc__ or cls.__name__}",
        payload=(cls, Field(description=f"The `{event_type}` payload ({cls.__name__}).")),
    )
    return model


REQUEST_MODELS: Final = MappingProxyType({t: _request_model(t) for t in INBOUND_EVENT_TYPES})


class MissingDealError(ValueError):
    """The request names no deal and its payload does not either."""


def deal_of(payload: Payload, given: str | None) -> str:
    if given:
        return given
    for name in _DEAL_FIELDS:
        value = getattr(payload, name, None)
        if value:
            return str(value)
    raise MissingDealError("deal_id is required: the payload does not name the deal")


def event_id_for(principal: str, idempotency_key: str | None) -> UUID:
    """The same for every retry of one client's request; a fresh one without a key."""
    if idempotency_key is None:
        return uuid4()
    return uuid5(_NAMESPACE, f"{principal}\n{idempotency_key}")


def fingerprint(event_type: str, deal_id: str, payload: Payload, at: datetime | None) -> bytes:
    """What a retry must repeat: the type, the deal, the time if given, and the payload."""
    canonical = orjson.dumps(
        [event_type, deal_id, at.isoformat() if at else None, payload.model_dump(mode="json")],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).digest()


def envelope_of(
    event_type: str,
    payload: Payload,
    *,
    deal_id: str,
    principal: str,
    event_id: UUID,
    now: datetime,
    occurred_at: datetime | None,
) -> Envelope[Any]:
    return make_envelope(
        payload,
        event_type=event_type,
        deal_id=deal_id,
        producer=principal,
        occurred_at=occurred_at or now,
        event_id=event_id,
    )
