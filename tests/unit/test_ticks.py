"""Ticks: one period, one start, one event id, whoever produces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.envelope import decode, encode
from contracts.ticks import CLOCK_DEAL_ID, tick_event_id, tick_period_start
from contracts.topics import kafka_key, topic_for_event
from shared.ticker import tick_envelope

HOUR = 3600


def test_the_period_start_is_the_same_for_every_moment_of_the_period() -> None:
    start = datetime(2025, 3, 1, 6, tzinfo=UTC)

    assert tick_period_start(start, HOUR) == start
    assert tick_period_start(start + timedelta(minutes=59, seconds=59), HOUR) == start
    assert tick_period_start(start + timedelta(hours=1), HOUR) == start + timedelta(hours=1)
    assert tick_period_start(start - timedelta(microseconds=1), HOUR) == start - timedelta(hours=1)
    # The same instant in another offset is the same period.
    assert tick_period_start(start.astimezone(timezone(timedelta(hours=2))), HOUR) == start
    assert tick_period_start(start + timedelta(hours=7), 86400) == datetime(2025, 3, 1, tzinfo=UTC)


def test_a_period_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        tick_period_start(datetime(2025, 3, 1, tzinfo=UTC), 0)


def test_every_producer_derives_one_event_id_per_tick_time() -> None:
    at = datetime(2025, 3, 1, 6, tzinfo=UTC)
    from_a_worker = tick_envelope(at, HOUR)
    from_the_cli = tick_envelope(at.astimezone(timezone(timedelta(hours=-5))), HOUR)

    assert from_a_worker.event_id == from_the_cli.event_id == tick_event_id(at)
    assert tick_envelope(at + timedelta(hours=1), HOUR).event_id != from_a_worker.event_id


def test_a_tick_travels_on_the_clock_topic_under_one_key() -> None:
    at = datetime(2025, 3, 1, 6, tzinfo=UTC)
    envelope = tick_envelope(at, HOUR)

    assert topic_for_event("clock.ticked").name == "clock.ticks"
    assert kafka_key(envelope) == CLOCK_DEAL_ID.encode()
    assert decode(encode(envelope)).payload.at == at
