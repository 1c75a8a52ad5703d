"""The stage registry, the topic map and each service's handler table agree, and every worker
builds (no servers needed) as the guarantees require: manual acks after the database commit,
its own consumer group, the topics the map says it reads."""

from __future__ import annotations

import importlib
import inspect
import typing
from typing import Any

import pytest
from faststream import AckPolicy

from contracts.registry import payload_type
from contracts.stages import STAGES, Stage
from contracts.ticks import TICK_PRODUCER
from contracts.topics import ALL_TOPICS, TopicKind, consumed_by, published_by
from salesflow.stages import build_stage
from shared.settings import RuntimeSettings

NOWHERE = RuntimeSettings(
    kafka_bootstrap="127.0.0.1:1",
    database_url="postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none",  # type: ignore[arg-type]
)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_every_consumed_event_type_has_exactly_one_handler_of_its_payload_type(
    stage: Stage,
) -> None:
    handlers: dict[str, Any] = importlib.import_module(stage.handlers_module).HANDLERS
    consumed = {et for spec in consumed_by(stage.service) for et in spec.event_types}
    assert set(handlers) == consumed
    for event_type, handler in handlers.items():
        hints = typing.get_type_hints(handler)
        msg = hints[list(inspect.signature(handler).parameters)[1]]
        (declared,) = typing.get_args(msg)
        assert declared is payload_type(event_type), (
            f"{stage.service}: the handler of {event_type} reads {declared.__name__}"
        )


def test_every_topic_has_one_owner_among_the_stages_and_readers_that_exist() -> None:
    services = {s.service for s in STAGES}
    for spec in ALL_TOPICS:
        if spec.kind is TopicKind.SCHEDULE:
            # Ticks: the scheduler's, read by the stages that have time rules.
            assert spec.owner == TICK_PRODUCER, spec.name
            assert set(spec.readers) == {"quote_svc", "order_svc", "invoice_svc"}
            continue
        assert spec.owner in services, spec.name
        assert set(spec.readers) <= services, spec.name
        if spec.kind is TopicKind.INBOUND:
            assert spec.readers == (spec.owner,), f"{spec.name}: its owner consumes it"
        if spec.kind is TopicKind.DEAD_LETTER:
            assert spec.readers == (), f"{spec.name}: nobody consumes dead letters"
        assert spec.owner not in spec.readers or spec.kind is TopicKind.INBOUND, (
            f"{spec.name}: a service never consumes its own events"
        )


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_each_stage_publishes_its_rejections_and_dead_letters(stage: Stage) -> None:
    names = {spec.name for spec in published_by(stage.service)}
    assert stage.dead_letter_topic in names
    assert f"{stage.name}.rejected" in names


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_each_worker_builds_with_manual_acks_in_its_own_group(stage: Stage) -> None:
    worker = build_stage(stage.name, NOWHERE)
    subscriber = worker.subscriber
    # Ack-first would be FastStream's default: auto-commit, at most once.
    assert subscriber.ack_policy is AckPolicy.MANUAL
    assert subscriber._connection_args["enable_auto_commit"] is False  # the consumer's own config
    assert (
        subscriber._connection_args["auto_offset_reset"] == "earliest"
    )  # the consumer's own config
    assert subscriber.group_id == stage.group_id
    assert {t.name for t in consumed_by(stage.service)} == set(worker.spec.consumes)
    assert [t.name for t in subscriber.topics] == list(worker.spec.consumes)
