"""`salesflow replay GROUP --since TIME`: a consumer group reads its topics again from a point
in time, e.g. an ERP connector that lost its state. The group's committed offsets are moved to
the first record at or after that time on every partition; the group must have no running
member (stop the consumers first), as with Kafka's own `kafka-consumer-groups --reset-offsets`.

Safe for salesflow's workers by construction: every event they read again is dropped by their
inbox as a duplicate (the inbox keeps ids for SALESFLOW_INBOX_RETENTION_HOURS; replay no further
back than that). A connector of your own must be idempotent on the event id in the same way.

A replay only moves a group back. On a partition where the group is behind `--since` (a lagging
connector), moving it to that time would skip the records in between, which it has not read;
so it is kept where it is, and so is a partition it never committed with records before that
time (where it starts is its own reset policy's business), unless `allow_forward` is given.
Each partition's outcome is reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.stages import SERVICES
from contracts.topics import consumed_by
from shared import kafka_clients


class ReplayRefusedError(RuntimeError):
    """The group cannot be moved now (it has running members, or a topic is unknown)."""


class Move(StrEnum):
    """What a replay did on one partition."""

    BACK = "back"  # moved back to the first record at or after --since
    UNCHANGED = "unchanged"  # it was there already
    KEPT = "kept"  # behind --since or never committed: moving would skip unread records
    FORWARD = "forward"  # moved forward past records it had not read (allow_forward)


@dataclass(frozen=True, slots=True)
class Moved:
    partition: TopicPartition
    before: int | None  # the committed offset found (None: never committed)
    after: int | None  # the committed offset left (the target, or `before` when kept)
    target: int  # the first offset at or after --since (the end when nothing is newer)
    move: Move
    start: int = 0  # the partition's first offset still on the broker

    @property
    def skipped(self) -> int:
        """Records before the target the group has not read: from its committed offset, or
        (never committed) at most from the partition's start."""
        position = self.start if self.before is None else self.before
        return max(self.target - position, 0)

    def describe(self) -> str:
        """One line of the command's output."""
        where = f"{self.partition.topic}:{self.partition.partition}"
        line = f"{where} {self.before} -> {self.after} ({self.move.value}"
        up_to = "up to " if self.before is None else ""
        if self.move is Move.KEPT:
            line += (
                f": moving to {self.target} would skip {up_to}{self.skipped} unread; "
                "--allow-forward to do so"
            )
        elif self.move is Move.FORWARD and self.skipped:
            line += f": skipped {up_to}{self.skipped} unread"
        return line + ")"


def summary(group: str, moved: Sequence[Moved], *, dry_run: bool) -> str:
    """The command's last line: how many partitions went which way."""
    counts = Counter(m.move.value for m in moved)
    done = ", ".join(f"{n} {move}" for move, n in sorted(counts.items()))
    note = " (dry run: nothing committed)" if dry_run else ""
    return f"{group}: {len(moved)} partitions ({done}){note}"


def plan(
    tp: TopicPartition, before: int | None, target: int, *, start: int = 0, allow_forward: bool
) -> Moved:
    """Where one partition's committed offset goes: back to `target`, never past records the
    group has not read (min of the two) unless `allow_forward`. A partition the group never
    committed is set only when nothing lies before the target (it is the partition's start):
    otherwise where it reads from is its reset policy's, which this cannot know."""
    if (before is not None and target < before) or (before is None and target <= start):
        return Moved(tp, before, target, target, Move.BACK, start)
    if before == target:
        return Moved(tp, before, before, target, Move.UNCHANGED, start)
    if allow_forward:
        return Moved(tp, before, target, target, Move.FORWARD, start)
    return Moved(tp, before, before, target, Move.KEPT, start)


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
    bootstrap: str,
    group: str,
    topics: Sequence[str],
    since: datetime,
    *,
    dry_run: bool = False,
    allow_forward: bool = False,
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
        starts = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        moved = []
        for tp in parts:
            stamp = found.get(tp)
            target = stamp.offset if stamp else ends[tp]
            before = await _committed(consumer, tp)
            moved.append(plan(tp, before, target, start=starts[tp], allow_forward=allow_forward))
        changes = {
            m.partition: m.after
            for m in moved
            if m.after is not None and m.move in (Move.BACK, Move.FORWARD)
        }
        if not dry_run and changes:
            consumer.assign(parts)
            await consumer.commit(changes)
        return moved
    finally:
        await consumer.stop()


async def _committed(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    value = await consumer.committed(tp)
    return None if value is None else int(value)
