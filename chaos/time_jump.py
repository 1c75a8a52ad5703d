"""Where a run moves time once every deal has ended: far enough for the time rules to act on
what the run left behind, and past every tick the servers have seen."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import datetime, timedelta
from uuid import UUID

from aiokafka import TopicPartition

from contracts.envelope import decode
from contracts.ticks import TimeTicked, tick_event_id, tick_period_start
from shared import kafka_clients
from shared.ticker import TICK_TOPIC

# Once every deal has ended, time jumps this far ahead in one tick, so that the time rules act
# on what the run left behind (quotes left Active expire, unpaid invoices go overdue and get
# every reminder level) and the checker's time invariants have something to check. Past the
# longest validity and the last dunning level with its grace.
TIME_JUMP: timedelta = timedelta(days=120)
TICK_PERIOD_S = 3600
READ_TIMEOUT_S = 60.0


def jump_target(
    now: datetime, latest_tick: datetime | None, seen: Collection[UUID] = ()
) -> datetime:
    """Where the run moves time: TIME_JUMP ahead, and past every tick already published. A tick's
    event id is derived from its time (every ticker's copy dedupes), so a second run on the same
    servers within the hour jumped to the very same tick, which the inboxes dropped as a duplicate:
    no quote of that run expired (seen on 2026-12-02, 224 quotes, two runs ten minutes apart).
    `seen`: tick ids some inbox already holds (servers whose topics were reset, or two Kafkas
    beside one PostgreSQL): the jump goes on past them."""
    at = tick_period_start(now + TIME_JUMP, TICK_PERIOD_S)
    if latest_tick is not None and latest_tick >= at:
        at = tick_period_start(latest_tick, TICK_PERIOD_S) + timedelta(seconds=TICK_PERIOD_S)
    while tick_event_id(at) in seen:
        at += timedelta(seconds=TICK_PERIOD_S)
    return at


def candidate_ids(first: datetime, count: int = 240) -> set[UUID]:
    """The ids of the ticks a jump starting at `first` may land on."""
    return {tick_event_id(first + timedelta(seconds=TICK_PERIOD_S * k)) for k in range(count)}


async def latest_tick(bootstrap: str) -> datetime | None:
    """The time of the latest tick on the clock topic (the last record of each partition)."""
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [
            TopicPartition(TICK_TOPIC, p) for p in consumer.partitions_for_topic(TICK_TOPIC) or ()
        ]
        if not parts:
            return None
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        wanted = {tp for tp in parts if ends[tp] > 0}
        for tp in wanted:
            consumer.seek(tp, ends[tp] - 1)
        latest: datetime | None = None
        # until the last record of every partition was read: a first fetch on a loaded machine
        # can come back empty (a run that stopped at the first empty fetch jumped onto a tick
        # already published)
        deadline = time.monotonic() + READ_TIMEOUT_S
        while wanted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the last ticks of {sorted(wanted)}")
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    payload = decode(record.value).payload if record.value else None
                    if isinstance(payload, TimeTicked):
                        latest = payload.at if latest is None else max(latest, payload.at)
                    if record.offset >= ends[tp] - 1:
                        wanted.discard(tp)
        return latest
    finally:
        await consumer.stop()
