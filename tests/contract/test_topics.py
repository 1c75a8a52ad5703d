"""Topics and the registry agree: every event type has one payload class and one topic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.envelope import make_envelope
from contracts.errors import UnknownEventType
from contracts.registry import EVENT_TYPES, PAYLOAD_TYPES, payload_type
from contracts.stages import SERVICES
from contracts.topics import (
    ACCOUNT_KEY,
    ALL_TOPICS,
    CLOCK_KEY,
    CONTACT_KEY,
    DEAL_KEY,
    EVENT_RETENTION_MS,
    PARTITIONS,
    PRICE_ITEM_KEY,
    RATE_KEY,
    REPLAY_WINDOW_MS,
    SEGMENT_MS,
    TopicKind,
    dead_letter_topic,
    kafka_key,
    topic,
    topic_for_event,
)
from shared.settings import RuntimeSettings
from tests.contract.payload_examples import DEAL_ID, EXAMPLES


def test_every_registered_event_type_is_on_exactly_one_topic() -> None:
    on_topics = [t for spec in ALL_TOPICS for t in spec.event_types]

    assert sorted(on_topics) == sorted(EVENT_TYPES)


def test_registry() -> None:
    assert len(EVENT_TYPES) == 69
    assert payload_type("lead.captured").__name__ == "LeadCaptured"
    assert {payload_type(t).__name__ for t in ("lead.rejected", "invoice.rejected")} == {
        "CommandRejected"
    }
    assert len(PAYLOAD_TYPES) == 66
    with pytest.raises(UnknownEventType):
        payload_type("lead.nope")


def test_topic_names_are_unique_and_complete() -> None:
    names = [spec.name for spec in ALL_TOPICS]

    assert len(names) == len(set(names)) == 51
    assert {spec.name for spec in ALL_TOPICS if spec.kind is TopicKind.INBOUND} == {
        "lead.captured",
        "lead.commands",
        "account.commands",
        "catalog.prices",
        "catalog.volume_discounts",
        "fx.rates",
        "quote.commands",
        "opportunity.commands",
        "order.commands",
        "invoice.commands",
    }
    assert {spec.name for spec in ALL_TOPICS if spec.kind is TopicKind.DEAD_LETTER} == {
        f"{s}.dlq" for s in SERVICES
    }


def test_keys_partitions_and_compaction() -> None:
    for spec in ALL_TOPICS:
        assert spec.partitions == PARTITIONS == 6
        assert spec.owner in SERVICES or spec.kind is TopicKind.SCHEDULE
        if spec.name == "fx.rates":
            assert (spec.key_rule, spec.compacted) == (RATE_KEY, True)
        elif spec.name == "catalog.volume_discounts":
            assert (spec.key_rule, spec.compacted) == (PRICE_ITEM_KEY, True)
        elif spec.name == "clock.ticks":
            assert (spec.key_rule, spec.compacted) == (CLOCK_KEY, False)
        elif spec.name == "catalog.prices":
            assert (spec.key_rule, spec.compacted) == (PRICE_ITEM_KEY, True)
        elif spec.name in ("account.updated", "contact.updated"):
            # Master data: the latest of each record is kept, keyed by its own id.
            assert spec.compacted
            assert spec.key_rule == (ACCOUNT_KEY if spec.name == "account.updated" else CONTACT_KEY)
        elif spec.name == "account.commands":
            assert (spec.key_rule, spec.compacted) == (ACCOUNT_KEY, False)
        else:
            assert (spec.key_rule, spec.compacted) == (DEAL_KEY, False)


def test_lookups() -> None:
    assert topic_for_event("quote.accept").name == "quote.commands"
    assert topic_for_event("quote.rejected").name == "quote.rejected"
    assert topic_for_event("quote.rejected").owner == "quote_svc"
    assert topic("order.confirmed").kind is TopicKind.OUTBOUND
    assert dead_letter_topic("order_svc").name == "order_svc.dlq"
    with pytest.raises(KeyError):
        topic("order.shipped")
    with pytest.raises(KeyError):
        topic_for_event("order.shipped")


def test_kafka_key_is_the_deal_id_except_for_prices() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    order = make_envelope(
        EXAMPLES["order.confirmed"],
        event_type="order.confirmed",
        deal_id=DEAL_ID,
        producer="order_svc",
        occurred_at=at,
    )
    price = make_envelope(
        EXAMPLES["catalog.price_upserted"],
        event_type="catalog.price_upserted",
        deal_id="PL-EUR-2025",
        producer="pim",
        occurred_at=at,
    )

    assert kafka_key(order) == DEAL_ID.encode()
    assert kafka_key(price) == b"PL-EUR-2025:SKU-1001"


def test_the_broker_stamps_every_record_but_the_ticks() -> None:
    """A producer whose clock is hours off is accepted (the broker's time stamps its records);
    a tick keeps its producer's time, and one stamped more than an hour ahead is refused."""
    for spec in ALL_TOPICS:
        if spec.kind is TopicKind.SCHEDULE:
            assert spec.configs["message.timestamp.type"] == "CreateTime", spec.name
            assert spec.configs["message.timestamp.after.max.ms"] == "3600000", spec.name
        else:
            assert spec.configs["message.timestamp.type"] == "LogAppendTime", spec.name
            assert "message.timestamp.after.max.ms" not in spec.configs, spec.name


def test_every_topic_declares_its_retention() -> None:
    day_ms = 24 * 3600 * 1000
    for spec in ALL_TOPICS:
        configs = spec.configs
        if spec.compacted:
            # the latest per key for ever; a superseded record (a contact before its erasure)
            # compacted away within a week (segments roll daily so the active one qualifies)
            assert configs == {
                "cleanup.policy": "compact",
                "retention.ms": "-1",
                "max.compaction.lag.ms": str(7 * day_ms),
                "segment.ms": str(day_ms),
                "message.timestamp.type": "LogAppendTime",
            }, spec.name
        else:
            assert configs["cleanup.policy"] == "delete", spec.name
            assert int(configs["retention.ms"]) == spec.retention_ms > 0, spec.name
            assert int(configs["segment.ms"]) == SEGMENT_MS, spec.name
        if spec.kind is TopicKind.DEAD_LETTER:
            # Long enough for a person to come back from a holiday and redrive them.
            assert spec.retention_ms >= 28 * day_ms
        elif not spec.compacted:
            assert spec.retention_ms == EVENT_RETENTION_MS


def test_the_inbox_remembers_ids_as_long_as_any_input_can_be_read_again() -> None:
    # A record lives up to its retention plus one segment; a replay or redelivery within that
    # must still find its event id in the inbox.
    window_ms = max(
        spec.retention_ms + SEGMENT_MS for spec in ALL_TOPICS if spec.readers and not spec.compacted
    )
    assert window_ms == REPLAY_WINDOW_MS
    default_hours = RuntimeSettings.model_fields["inbox_retention_hours"].default
    assert default_hours * 3600 * 1000 >= REPLAY_WINDOW_MS
