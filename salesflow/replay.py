"""`salesflow replay GROUP --since TIME`: a consumer group reads its topics again from a point
in time, e.g. an ERP connector that lost its state. The group's committed offsets are moved to
the first record at or after that time on every partition; the group must have no running
member (stop the consumers first), as with Kafka's own `kafka-consumer-groups --reset-offsets`.

Safe for salesflow's workers by construction: every event they read again is dropped by their
inbox as a duplicate (the inbox keeps ids for SALESFLOW_INBOX_RETENTION_HOURS; replay no further
back than that). A connector of your own must be idempotent on the event id in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.stages import SERVICES
from contracts.topics import consumed_by
from shared import kafka_clients


class ReplayRefusedError(RuntimeError):
    """The group cannot be moved now (it has running members, or a topic is unknown)."""


@dataclass(frozen=True, slots=True)
class Moved:
    partition: TopicPartition
    before: int | None
    after: int


def topics_of(group: str, topics: Sequence[str]) -> list[str]:
    """The topics to move: those given, else the ones a salesflow worker's group reads."""
    if topics:
        return list(topics)
    if group in SERVICES:
        return [spec.name for spec in consumed_by(group)]
    raise ReplayRefusedError(
        f"{group} is not a salesflow worker's group: name its topics (--topic)"
    )


async def replay(
    bootstrap: str, group: str, topics: Sequence[str], since: datetime, *, dry_run: bool = False
) -> list[Moved]:
    admin = kafka_clients.admin(bootstrap, client_id="salesflow-replay")
    await admin.start()
    try:
        for described in await admin.describe_consumer_groups([group]):
            for _err, group_id, state, *_rest in described.groups:
                if group_id == group and state not in ("Empty", "Dead", ""):
                    raise ReplayRefusedError(f"group {group} is {state}: stop its consumers first")
        parts: list[TopicPartition] = []
        for topic in await admin.describe_topics(list(topics)):
            if topic["error_code"]:
                raise ReplayRefusedError(f"topic {topic['topic']}: error {topic['error_code']}")
            numbers = sorted(p["partition"] for p in topic["partitions"])
            parts.extend(TopicPartition(topic["topic"], n) for n in numbers)
    finally:
        await admin.close()
    consumer = kafka_clients.consumer(bootstrap=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        at = int(since.timestamp() * 1000)
        found = await consumer.offsets_for_times(dict.fromkeys(parts, at))
        ends = await consumer.end_offsets(parts)
        moved = []
        for tp in parts:
            stamp = found.get(tp)
            moved.append(
                Moved(tp, await _committed(consumer, tp), stamp.offset if stamp else ends[tp])
            )
        if not dry_run and moved:
            consumer.assign(parts)
            await consumer.commit({m.partition: m.after for m in moved})
        return moved
    finally:
        await consumer.stop()


async def _committed(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    value = await consumer.committed(tp)
    return None if value is None else int(value)
