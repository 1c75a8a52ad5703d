"""Producing ticks: the scheduler that turns wall-clock time into `clock.ticked` messages.

The wall clock is read here, at the edge, and nowhere in a decision: a tick carries its time, and
the stages decide with it. Every worker runs a `Ticker` (and `salesflow tick` is the same loop as
a command), so no extra process is needed and no single one is a point of failure; they all
derive the same event id for a period, and each consumer's inbox keeps one of them.

A tick is published straight to Kafka rather than through an outbox: it carries no state of its
own, and a tick lost to a crash is subsumed by the next period's (time rules act "as of").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.ticks import (
    CLOCK_DEAL_ID,
    TICK_PRODUCER,
    TimeTicked,
    tick_event_id,
    tick_period_start,
)
from contracts.topics import kafka_key, topic_for_event
from shared import kafka_clients
from shared.clock import Clock

log = structlog.stdlib.get_logger("salesflow.ticker")

TICK_TOPIC = topic_for_event(TimeTicked.EVENT_TYPE).name
# How often a ticker looks at the clock: a tick is sent at most this late after its period began.
CHECK_EVERY_S = 30.0


def tick_envelope(at: datetime, period_seconds: int) -> Envelope[TimeTicked]:
    """The tick for `at`, with the event id every producer derives for it."""
    return make_envelope(
        TimeTicked(at=at, period_seconds=period_seconds),
        event_type=TimeTicked.EVENT_TYPE,
        deal_id=CLOCK_DEAL_ID,
        producer=TICK_PRODUCER,
        occurred_at=at,
        event_id=tick_event_id(at),
    )


async def send_tick(producer: AIOKafkaProducer, envelope: Envelope[TimeTicked]) -> None:
    delivery = await producer.send(
        TICK_TOPIC, encode(envelope), key=kafka_key(envelope), headers=kafka_headers(envelope)
    )
    await delivery


async def publish_tick(bootstrap: str, at: datetime, period_seconds: int) -> Envelope[TimeTicked]:
    """Publish one tick for `at` with a producer of its own (the CLI, tests that move time)."""
    producer = kafka_clients.producer(
        bootstrap, client_id=TICK_PRODUCER, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        envelope = tick_envelope(at, period_seconds)
        await send_tick(producer, envelope)
        return envelope
    finally:
        await producer.stop()


class Ticker:
    """Sends the tick of each period once, at the start of the period, for as long as it runs."""

    def __init__(
        self,
        *,
        clock: Clock,
        period_seconds: int,
        producer_factory: Callable[[], AIOKafkaProducer],
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:
        self._clock = clock
        self._period = period_seconds
        self._producer_factory = producer_factory
        self._check_every_s = min(check_every_s, float(period_seconds))
        self._last: datetime | None = None

    async def run(self) -> None:
        producer = self._producer_factory()
        started = False
        try:
            while True:
                at = tick_period_start(self._clock.now(), self._period)
                if at != self._last:
                    try:
                        if not started:
                            await producer.start()
                            started = True
                        await send_tick(producer, tick_envelope(at, self._period))
                        self._last = at
                        log.info("tick_sent", at=at.isoformat())
                    except Exception as error:  # noqa: BLE001 - a tick missed now is sent at the next check
                        log.warning("tick_not_sent", at=at.isoformat(), error=str(error)[:300])
                        # A producer that failed to start or send is not reused: a fresh one next
                        # time.
                        await producer.stop()
                        producer, started = self._producer_factory(), False
                await asyncio.sleep(self._check_every_s)
        finally:
            if started:
                await producer.stop()
