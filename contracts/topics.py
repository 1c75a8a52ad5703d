"""Every Kafka topic once: its name, the event types on it, how it is keyed, who owns it.

``owner`` is the service accountable for the topic's contract: the producer of an outbound topic,
the consumer of an inbound one (upstream systems publish there, but the service defines what it
accepts), and the service whose poison messages a dead-letter topic holds.

Every topic is keyed by the deal id so that all messages of one deal land on one partition, in
order, whichever stage wrote them; the one exception is the compacted price topic, whose key must
identify the price list item so that compaction keeps the latest price per item.

Ticks (`clock.ticks`) are the one topic no service owns: the scheduler writes them (`salesflow
tick` and every worker's own ticker, deduplicated by a per-period event id), and every stage with
a time rule reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from contracts.catalog import PriceListItemUpserted, VolumeDiscountUpserted
from contracts.envelope import Envelope
from contracts.rates import ExchangeRatePublished, rate_key
from contracts.rejections import REJECTION_EVENT_TYPES
from contracts.stages import STAGES, stage
from contracts.ticks import CLOCK_DEAL_ID, TICK_PRODUCER

__all__ = [
    "ACCOUNT_KEY",
    "ALL_TOPICS",
    "CLOCK_KEY",
    "COMPACTION_MAX_LAG_MS",
    "CONTACT_KEY",
    "DEAD_LETTER_RETENTION_MS",
    "DEAL_KEY",
    "EVENT_RETENTION_MS",
    "PARTITIONS",
    "PRICE_ITEM_KEY",
    "RATE_KEY",
    "REPLAY_WINDOW_MS",
    "RETAIN_FOREVER",
    "SEGMENT_MS",
    "TICK_AHEAD_LIMIT_MS",
    "TopicKind",
    "TopicSpec",
    "consumed_by",
    "dead_letter_topic",
    "kafka_key",
    "price_item_key",
    "published_by",
    "rejection_event_type",
    "topic",
    "topic_for_event",
]

# Six partitions everywhere: enough parallelism for one consumer per partition on a small cluster,
# and one number to reason about. Changing it remaps keys to partitions, i.e. breaks per-deal order
# for messages in flight, so it is a migration, not a config tweak.
PARTITIONS: Final = 6

_DAY_MS: Final = 24 * 3600 * 1000
# Retention, explicit on every topic (the broker default, 7 days, would otherwise apply silently).
# Events and commands: a week, enough for any consumer (a connector of yours included) to be
# replayed from a point in time (`salesflow replay`). Kafka deletes whole segments only, so a
# record may outlive its retention by up to one segment's age: segments roll daily, and a record
# can be read again for at most REPLAY_WINDOW_MS after it was written. Each worker's inbox keeps
# event ids at least that long (SALESFLOW_INBOX_RETENTION_HOURS, a test holds the default to
# it), so nothing it reads again is ever applied twice.
EVENT_RETENTION_MS: Final = 7 * _DAY_MS
SEGMENT_MS: Final = _DAY_MS
REPLAY_WINDOW_MS: Final = EVENT_RETENTION_MS + SEGMENT_MS
# Dead letters wait for a person to fix the cause and redrive them (`salesflow dlq redrive`):
# four weeks, so that a holiday does not make a parked message expire unseen.
DEAD_LETTER_RETENTION_MS: Final = 28 * _DAY_MS
# Compacted topics keep the latest record per key for ever (a price list, an account). A record
# superseded there (a contact's details before their erasure, `contact.erased`) is compacted away
# within COMPACTION_MAX_LAG_MS: a promise to whoever must erase personal data. Segments roll daily
# so that the one being written becomes compactable in time.
RETAIN_FOREVER: Final = -1
COMPACTION_MAX_LAG_MS: Final = 7 * _DAY_MS

# Record timestamps. The broker stamps every record as it appends it (LogAppendTime), whatever
# the producer's clock says: Kafka 4 refuses a record stamped more than an hour ahead of the
# broker (log.message.timestamp.after.max.ms), so a worker on a host whose clock ran two hours
# ahead could publish nothing, its relay retrying for ever and its stage stalled behind it (the
# chaos harness's clock_skew fault, seed 1503, quote_svc at +5.9 h). The ticks are the exception:
# a tick states the time in its payload and its producer's clock is its whole content, so the
# clock topic keeps the producer's timestamp and the broker's refusal of one more than
# TICK_AHEAD_LIMIT_MS ahead: a ticker whose clock runs ahead cannot move everyone's time on
# (a late one is harmless: time rules act "as of", contracts.ticks).
TICK_AHEAD_LIMIT_MS: Final = 3600 * 1000

DEAL_KEY: Final = "deal_id"
PRICE_ITEM_KEY: Final = "<price_list_id>:<sku>"
RATE_KEY: Final = "<from>:<to>:<valid_on>"
# Master data belongs to no deal: the envelope's deal_id (and so the key) is the record's id.
ACCOUNT_KEY: Final = "account_id"
CONTACT_KEY: Final = "contact_id"
# Ticks belong to no deal: one constant key, so they stay in order on one partition.
CLOCK_KEY: Final = f'"{CLOCK_DEAL_ID}"'


class TopicKind(StrEnum):
    """Who writes to a topic."""

    INBOUND = "inbound"  # published by upstream systems (forms, ERP, people's tools)
    OUTBOUND = "outbound"  # published by a salesflow service
    DEAD_LETTER = "dead_letter"  # messages a service could never process, with the reason
    SCHEDULE = "schedule"  # ticks from the scheduler, read by every stage with a time rule


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as ``infra`` creates it and as producers and consumers address it."""

    name: str
    event_types: tuple[str, ...]
    key_rule: str
    partitions: int
    compacted: bool
    kind: TopicKind
    owner: str
    # The services whose workers consume the topic: the owner of an inbound topic, the next
    # stages of an outbound one. Each must handle every event type on it (tests/contract).
    readers: tuple[str, ...] = ()
    retention_ms: int = EVENT_RETENTION_MS

    def __post_init__(self) -> None:
        if self.compacted != (self.retention_ms == RETAIN_FOREVER):
            raise ValueError(f"{self.name}: a compacted topic, and only one, is kept for ever")

    @property
    def configs(self) -> dict[str, str]:
        """The topic's broker configuration, set when it is created (`shared.topics_admin`)."""
        if self.compacted:
            kept = {
                "cleanup.policy": "compact",
                "retention.ms": str(RETAIN_FOREVER),
                "max.compaction.lag.ms": str(COMPACTION_MAX_LAG_MS),
                "segment.ms": str(SEGMENT_MS),
            }
        else:
            kept = {
                "cleanup.policy": "delete",
                "retention.ms": str(self.retention_ms),
                "segment.ms": str(SEGMENT_MS),
            }
        return kept | self.timestamps

    @property
    def timestamps(self) -> dict[str, str]:
        """Who stamps the records: the broker, except on the clock topic (TICK_AHEAD_LIMIT_MS)."""
        if self.kind is TopicKind.SCHEDULE:
            return {
                "message.timestamp.type": "CreateTime",
                "message.timestamp.after.max.ms": str(TICK_AHEAD_LIMIT_MS),
            }
        return {"message.timestamp.type": "LogAppendTime"}


def _inbound(name: str, owner: str, *event_types: str, key: str = DEAL_KEY) -> TopicSpec:
    return TopicSpec(name, event_types, key, PARTITIONS, False, TopicKind.INBOUND, owner, (owner,))


def _outbound(
    name: str,
    owner: str,
    *event_types: str,
    read_by: tuple[str, ...] = (),
    compacted: bool = False,
    key: str = DEAL_KEY,
) -> TopicSpec:
    return TopicSpec(
        name,
        event_types,
        key,
        PARTITIONS,
        compacted,
        TopicKind.OUTBOUND,
        owner,
        read_by,
        RETAIN_FOREVER if compacted else EVENT_RETENTION_MS,
    )


def _dead_letter(owner: str) -> TopicSpec:
    # Dead letters keep the original key (so a replay lands on the same partition) and any type.
    return TopicSpec(
        stage(owner.removesuffix("_svc")).dead_letter_topic,
        (),
        DEAL_KEY,
        PARTITIONS,
        False,
        TopicKind.DEAD_LETTER,
        owner,
        (),
        DEAD_LETTER_RETENTION_MS,
    )


LEAD, QUOTE, ORDER, INVOICE = (stage(n).service for n in ("lead", "quote", "order", "invoice"))
_LEAD_REJECTED, _QUOTE_REJECTED, _ORDER_REJECTED, _INVOICE_REJECTED = REJECTION_EVENT_TYPES

ALL_TOPICS: Final[tuple[TopicSpec, ...]] = (
    # inbound
    _inbound("lead.captured", LEAD, "lead.captured"),
    _inbound(
        "lead.commands",
        LEAD,
        "lead.qualify",
        "lead.disqualify",
        "lead.reactivate",
        "lead.update",
    ),
    # Master data from a CRM or the ERP, keyed by the account id (contracts/accounts.py).
    _inbound(
        "account.commands",
        LEAD,
        "account.upsert",
        "account.upsert_contact",
        "account.link_erp_customer",
        key=ACCOUNT_KEY,
    ),
    TopicSpec(
        "catalog.prices",
        ("catalog.price_upserted",),
        PRICE_ITEM_KEY,
        PARTITIONS,
        True,
        TopicKind.INBOUND,
        QUOTE,
        (QUOTE,),
        RETAIN_FOREVER,
    ),
    # Exchange rates from the ERP: every day's rate per pair is kept (compacted by pair and day).
    TopicSpec(
        "fx.rates",
        ("fx.rate_published",),
        RATE_KEY,
        PARTITIONS,
        True,
        TopicKind.INBOUND,
        QUOTE,
        (QUOTE,),
        RETAIN_FOREVER,
    ),
    # Volume discount lists from the ERP, compacted like the prices (the latest list per item).
    TopicSpec(
        "catalog.volume_discounts",
        ("catalog.volume_discount_upserted",),
        PRICE_ITEM_KEY,
        PARTITIONS,
        True,
        TopicKind.INBOUND,
        QUOTE,
        (QUOTE,),
        RETAIN_FOREVER,
    ),
    _inbound(
        "quote.commands",
        QUOTE,
        "quote.revise",
        "quote.accept",
        "quote.reject",
        "quote.create",
        "quote.activate",
    ),
    _inbound(
        "opportunity.commands",
        QUOTE,
        "opportunity.update",
        "opportunity.close",
        "opportunity.reopen",
    ),
    _inbound(
        "order.commands",
        ORDER,
        "order.cancel",
        "order.record_fulfilment",
        "order.acknowledge",
        "order.refuse",
        "order.resubmit",
    ),
    _inbound(
        "invoice.commands",
        INVOICE,
        "invoice.register_external",
        "invoice.record_payment",
        "invoice.cancel",
        "invoice.credit",
        "invoice.register_external_credit",
        "invoice.record_refund",
        "invoice.apply_credit",
    ),
    # outbound
    _outbound("lead.qualified", LEAD, "lead.qualified", read_by=(QUOTE,)),
    _outbound("lead.disqualified", LEAD, "lead.disqualified"),
    _outbound("lead.opened", LEAD, "lead.opened"),
    _outbound("lead.updated", LEAD, "lead.updated"),
    _outbound("lead.reactivated", LEAD, "lead.reactivated"),
    _outbound("lead.rejected", LEAD, _LEAD_REJECTED),
    # The latest of each account and contact is kept (compacted, keyed by its id).
    _outbound(
        "account.updated",
        LEAD,
        "account.updated",
        read_by=(QUOTE,),
        compacted=True,
        key=ACCOUNT_KEY,
    ),
    # An erasure supersedes the contact's last details under the same key (contracts/accounts.py).
    _outbound(
        "contact.updated",
        LEAD,
        "contact.updated",
        "contact.erased",
        compacted=True,
        key=CONTACT_KEY,
    ),
    _outbound("opportunity.opened", QUOTE, "opportunity.opened"),
    _outbound("opportunity.updated", QUOTE, "opportunity.updated"),
    _outbound("quote.drafted", QUOTE, "quote.drafted"),
    _outbound("quote.issued", QUOTE, "quote.issued"),
    _outbound("quote.accepted", QUOTE, "quote.accepted", read_by=(ORDER,)),
    _outbound("quote.closed", QUOTE, "quote.closed"),
    _outbound("opportunity.closed", QUOTE, "opportunity.closed"),
    _outbound("quote.rejected", QUOTE, _QUOTE_REJECTED),
    _outbound("order.confirmed", ORDER, "order.confirmed", read_by=(INVOICE,)),
    _outbound("order.fulfilled", ORDER, "order.fulfilled", read_by=(INVOICE,)),
    _outbound("order.cancelled", ORDER, "order.cancelled", read_by=(INVOICE,)),
    _outbound("order.invoiced", ORDER, "order.invoiced"),
    _outbound("order.acknowledged", ORDER, "order.acknowledged", read_by=(INVOICE,)),
    _outbound("order.refused", ORDER, "order.refused"),
    _outbound("order.resubmitted", ORDER, "order.resubmitted", read_by=(INVOICE,)),
    _outbound("order.handoff_stale", ORDER, "order.handoff_stale"),
    _outbound("order.rejected", ORDER, _ORDER_REJECTED),
    _outbound("invoice.posted", INVOICE, "invoice.posted", read_by=(ORDER,)),
    _outbound("invoice.paid", INVOICE, "invoice.paid", read_by=(ORDER,)),
    _outbound("invoice.cancelled", INVOICE, "invoice.cancelled"),
    _outbound("invoice.overdue", INVOICE, "invoice.overdue"),
    _outbound("invoice.dunning", INVOICE, "invoice.dunning"),
    _outbound("invoice.credited", INVOICE, "invoice.credited", read_by=(ORDER,)),
    _outbound("refund.due", INVOICE, "refund.due"),
    _outbound("invoice.refunded", INVOICE, "invoice.refunded"),
    _outbound("invoice.credit_applied", INVOICE, "invoice.credit_applied"),
    _outbound("invoice.handoff_stale", INVOICE, "invoice.handoff_stale"),
    _outbound("invoice.rejected", INVOICE, _INVOICE_REJECTED),
    # time: owned by the scheduler, read by the stages whose rules act on time passing
    TopicSpec(
        "clock.ticks",
        ("clock.ticked",),
        CLOCK_KEY,
        PARTITIONS,
        False,
        TopicKind.SCHEDULE,
        TICK_PRODUCER,
        (QUOTE, ORDER, INVOICE),
    ),
    # dead letters
    *(_dead_letter(s.service) for s in STAGES),
)


def _index_by_name(topics: tuple[TopicSpec, ...]) -> dict[str, TopicSpec]:
    index: dict[str, TopicSpec] = {}
    for spec in topics:
        if spec.name in index:
            raise ValueError(f"topic {spec.name!r} declared twice")
        index[spec.name] = spec
    return index


def _index_by_event(topics: tuple[TopicSpec, ...]) -> dict[str, TopicSpec]:
    # One topic per event type: a consumer subscribing to a type must find all of it in one place.
    index: dict[str, TopicSpec] = {}
    for spec in topics:
        for event_type in spec.event_types:
            if event_type in index:
                raise ValueError(f"{event_type!r} is on {index[event_type].name} and {spec.name}")
            index[event_type] = spec
    return index


_BY_NAME: Final[Mapping[str, TopicSpec]] = MappingProxyType(_index_by_name(ALL_TOPICS))
_BY_EVENT: Final[Mapping[str, TopicSpec]] = MappingProxyType(_index_by_event(ALL_TOPICS))


def topic(name: str) -> TopicSpec:
    """The spec of topic ``name``; ``KeyError`` if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no topic named {name!r}") from None


def topic_for_event(event_type: str) -> TopicSpec:
    """The topic that carries ``event_type``; ``KeyError`` if none does."""
    try:
        return _BY_EVENT[event_type]
    except KeyError:
        raise KeyError(f"no topic carries {event_type!r}") from None


def consumed_by(service: str) -> tuple[TopicSpec, ...]:
    """The topics `service`'s worker consumes, in map order."""
    return tuple(spec for spec in ALL_TOPICS if service in spec.readers)


def published_by(service: str) -> tuple[TopicSpec, ...]:
    """The topics `service` writes: the outbound topics it owns and its dead-letter topic."""
    return tuple(
        spec for spec in ALL_TOPICS if spec.owner == service and spec.kind is not TopicKind.INBOUND
    )


def rejection_event_type(service: str) -> str:
    """The event type under which `service` answers a command it refuses."""
    (found,) = (
        event_type
        for spec in published_by(service)
        for event_type in spec.event_types
        if event_type in REJECTION_EVENT_TYPES
    )
    return found


def dead_letter_topic(service: str) -> TopicSpec:
    """The dead-letter topic of ``service`` (e.g. ``"lead_svc"``)."""
    return topic(f"{service}.dlq")


def price_item_key(price_list_id: str, sku: str) -> str:
    """Compaction key of the price topic, ``<price_list_id>:<sku>``."""
    return f"{price_list_id}:{sku}"


def kafka_key(envelope: Envelope[Any]) -> bytes:
    """The Kafka key of ``envelope`` by its topic's key rule."""
    payload = envelope.payload
    # By exact class (payload classes are final, one per event type): isinstance against a
    # pydantic model class goes through its metaclass and cost more than the rest of the key.
    kind = type(payload)
    if kind is PriceListItemUpserted or kind is VolumeDiscountUpserted:
        return price_item_key(payload.price_list_id, payload.sku).encode()
    if kind is ExchangeRatePublished:
        return rate_key(payload.from_currency, payload.to_currency, payload.valid_on).encode()
    return envelope.deal_id.encode()
