"""The worker's Kafka side: a FastStream batch subscriber whose batches go through the runtime,
with offsets committed only after the batch's database transaction committed.

`AckPolicy.MANUAL` (FastStream's default for Kafka is ack-first, i.e. auto-commit: at most once).
Any batch not committed is `nack`ed, which seeks every partition of the batch back to its first
record, because under MANUAL an ack commits the consumer's position on every assigned partition
and would otherwise skip a failed batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.message import KafkaMessage as KafkaStreamMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage

from shared.health import Readiness
from shared.intake import Record
from shared.runtime import BatchDeferred, BatchOutcome
from shared.settings import RuntimeSettings

log = structlog.stdlib.get_logger("salesflow.subscription")

UNEXPECTED_FAILURE_PAUSE_S = 1.0


class BatchHandler(Protocol):
    async def handle(self, records: Sequence[Record]) -> BatchOutcome: ...


class AckableBatch(Protocol):
    """A polled batch as the consume loop needs it (FastStream's message, or a test double)."""

    @property
    def raw_message(self) -> Sequence[Record]: ...

    async def ack(self) -> None: ...

    async def nack(self) -> None: ...


class AssignmentListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Reports group membership to readiness and logs assignments.

    Nothing needs committing on revocation: offsets are committed right after each batch's
    database commit, and a batch still in flight when its partitions move is redelivered to
    the new owner, whose inbox drops what this member already committed.
    """

    def __init__(self, readiness: Readiness) -> None:
        self._readiness = readiness

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        log.info(
            "partitions_revoked", partitions=sorted(f"{p.topic}:{p.partition}" for p in revoked)
        )

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self._readiness.set_assigned(ok=True)
        log.info(
            "partitions_assigned", partitions=sorted(f"{p.topic}:{p.partition}" for p in assigned)
        )


class BatchMessage(KafkaAckableMessage):
    """A polled batch whose ack commits only the partitions the batch read, each at the offset
    after its last record.

    FastStream's ack commits the consumer's position on every assigned partition (18 offset
    records per commit for order_svc, for a batch that often touches one); the offsets are the
    same for the partitions in the batch, and the others have not moved since their last commit.
    """

    async def ack(self) -> None:
        if not self.committed:
            offsets: dict[TopicPartition, int] = {}
            for record in self.raw_message:
                tp = TopicPartition(record.topic, record.partition)
                offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
            await cast("AIOKafkaConsumer", self.consumer).commit(offsets)
        await KafkaStreamMessage.ack(self)  # marks it acked, without a second commit


class OffsetCommits:
    """Kafka offset commits off the consume path: at most one in flight, always in order.

    A batch's offsets are committed only after its database transaction committed; the
    commit's round trip (several ms, more on a busy broker) overlaps the next poll and batch
    instead of delaying every hop. A crash before a commit lands redelivers batches the inbox
    already holds, exactly as a crash between the database commit and the offset commit can.
    From shutdown on (`flush`, before the broker stops consuming) commits are awaited, so a
    clean stop leaves nothing to redeliver.
    """

    def __init__(self) -> None:
        self._last: asyncio.Task[None] | None = None
        self._stopping = False

    async def commit(self, message: AckableBatch) -> None:
        await self._wait_last()
        if self._stopping:
            await self._ack(message)
        else:
            self._last = asyncio.create_task(self._ack(message))

    async def flush(self) -> None:
        self._stopping = True
        await self._wait_last()

    async def _wait_last(self) -> None:
        if self._last is not None:
            await asyncio.shield(self._last)
            self._last = None

    @staticmethod
    async def _ack(message: AckableBatch) -> None:
        try:
            await message.ack()
        except Exception as error:  # noqa: BLE001 - a background task: report, never raise
            # Effects are committed; the records will be redelivered (rebalance, lost broker,
            # stopped consumer) and the inbox drops them. Nothing else to do.
            log.warning("offset_commit_failed", error_class=type(error).__name__, error=str(error))


async def consume_batch(
    runtime: BatchHandler,
    commits: OffsetCommits,
    message: AckableBatch,
    *,
    pause_after_failure_s: float = UNEXPECTED_FAILURE_PAUSE_S,
) -> BatchOutcome | None:
    """Apply one batch, then commit its offsets; rewind it when it was not applied."""
    records = message.raw_message
    first = records[0]
    structlog.contextvars.bind_contextvars(topic=first.topic, partition=first.partition)
    try:
        outcome = await runtime.handle(records)
    except BatchDeferred:
        await _rewind(message)
        return None
    except asyncio.CancelledError:
        raise
    except Exception:
        # Not expected (the runtime classifies errors itself); never ack what was not applied.
        log.exception("batch_failed_unexpectedly", records=len(records))
        await _rewind(message)
        await asyncio.sleep(pause_after_failure_s)
        return None
    finally:
        structlog.contextvars.unbind_contextvars("topic", "partition")
    await commits.commit(message)
    log.debug(
        "batch_done",
        records=outcome.records,
        processed=outcome.processed,
        duplicates=outcome.duplicates,
        dead_lettered=outcome.dead_lettered,
    )
    return outcome


async def _rewind(message: AckableBatch) -> None:
    try:
        await message.nack()
    except Exception as error:  # noqa: BLE001 - the next poll re-reads from the committed offset
        log.warning("batch_rewind_failed", error_class=type(error).__name__, error=str(error))


def subscribe(
    broker: KafkaBroker,
    *,
    topics: Sequence[str],
    group_id: str,
    description: str,
    settings: RuntimeSettings,
    readiness: Readiness,
    runtime: BatchHandler,
    commits: OffsetCommits,
) -> BatchSubscriber:
    """The worker's one subscriber: batches of its input topics into `runtime`."""
    box: list[BatchSubscriber] = []

    async def parse(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> StreamMessage[Any]:
        # Replaces FastStream's batch parser, which decodes every header as UTF-8 and loses the
        # whole batch on one bad header (faststream#2458). Headers are judged by the intake.
        first, last = records[0], records[-1]
        return BatchMessage(
            body=records,
            headers={},
            batch_headers=[],
            reply_to="",
            content_type=None,
            message_id=f"{first.topic}-{first.partition}-{first.offset}-{last.offset}",
            correlation_id=None,
            raw_message=records,
            consumer=box[0].consumer,
        )

    async def decode(message: StreamMessage[Any]) -> Any:
        return message.raw_message

    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        fetch_min_bytes=settings.fetch_min_bytes,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        listener=AssignmentListener(readiness),
        parser=parse,
        decoder=decode,
        title=f"{group_id}:batch",
        description=description,
    )
    box.append(subscriber)

    @subscriber
    async def on_batch(message: KafkaMessage) -> None:
        await consume_batch(runtime, commits, message)

    return subscriber
