"""`salesflow trace REF`: every event of one deal, in order, across all topics.

REF is the deal id, or an order's number: salesflow's (`SO-...`) or the one the ERP gave it when
it acknowledged the order (`order.acknowledge`), looked up in order_svc's table.

The deal id is the Kafka key, so each topic holds the deal in exactly one partition: the one
Kafka's default partitioner (murmur2 of the key) picks. Only that partition of each topic is
read, from the beginning to its current end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text

from contracts.envelope import decode
from contracts.errors import InvalidMessage
from contracts.topics import ALL_TOPICS
from salesflow.book_queries import read_only
from shared import kafka_clients, tolerant_records
from shared.intake import content_type
from shared.topic_partitions import partitions_by_topic

# An order named by salesflow's number or the ERP's; the newest first if an ERP reused one.
_ORDER_BY_NUMBER = text(
    "SELECT deal_id, order_number, erp_order_number FROM order_svc.orders"
    " WHERE order_number = :ref OR erp_order_number = :ref ORDER BY confirmed_at DESC"
)


async def deal_of(database_url: str, ref: str) -> tuple[str, str | None]:
    """The deal `ref` names, and how it was found (None: `ref` is taken as the deal id). A
    database that cannot be read leaves `ref` as the deal id."""
    try:
        async with read_only(database_url) as conn:
            rows = (await conn.execute(_ORDER_BY_NUMBER, {"ref": ref})).all()
    except (LookupError, ConnectionError):
        return ref, None
    if not rows:
        return ref, None
    deal, number, erp_number = rows[0]
    how = f"order {number}" + (f", ERP order {erp_number}" if erp_number else "")
    return deal, how


@dataclass(frozen=True, slots=True)
class TracedEvent:
    """One record of a deal: where and when it was written, and what it says."""

    at: datetime
    topic: str
    partition: int
    offset: int
    event_type: str | None
    event_id: str | None
    producer: str | None
    causation_id: str | None
    summary: str
    # A dead letter's reason, or why the record could not be read.
    problem: str | None = None
    # Found on another partition than Java's murmur2 picks for the deal: its producer used
    # another partitioner (kcat's default), so it is out of order with the deal's other records.
    misplaced: bool = False

    def line(self) -> str:
        at = self.at.isoformat(timespec="milliseconds")
        where = f"  [partition {self.partition}, not murmur2's]" if self.misplaced else ""
        if self.event_type is None:
            return f"{at}  {self.topic:<20} {self.summary}{where}"
        cause = f"  <- {self.causation_id}" if self.causation_id else ""
        return (
            f"{at}  {self.topic:<20} {self.event_type:<26} {self.event_id}  by {self.producer}"
            f"{cause}  {self.summary}{where}"
        )


async def trace_deal(bootstrap: str, deal_id: str, *, everywhere: bool = False) -> list[str]:
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    admin = kafka_clients.admin(bootstrap, client_id="salesflow-trace")
    events = await read_deal(consumer, admin, deal_id, everywhere=everywhere)
    return [event.line() for event in events]


async def read_deal(
    consumer: AIOKafkaConsumer,
    admin: AIOKafkaAdminClient,
    deal_id: str,
    *,
    everywhere: bool = False,
) -> list[TracedEvent]:
    """Every record of the deal, in time order, read with `consumer` (which partitions: asked
    with `admin`; neither started, both started and stopped here).

    By default only the partition murmur2 picks for the deal, on each topic: where every
    salesflow producer (and any Java or aiokafka client) puts it. `everywhere` reads every
    partition of every topic, so records a producer with another partitioner put elsewhere are
    found too (marked `misplaced`); it reads the whole log, so it is for a deal that looks
    incomplete, not for every trace."""
    # A deal's partition may hold a record whose header name is not UTF-8 (a hostile client's):
    # aiokafka would fail the whole read on it, as it would a worker's poll.
    tolerant_records.install()
    key = deal_id.encode()
    partitioner = DefaultPartitioner()
    await consumer.start()
    found: list[tuple[int, str, Any]] = []
    try:
        parts: list[TopicPartition] = []
        expected: set[TopicPartition] = set()
        topics = [spec.name for spec in ALL_TOPICS]
        for topic, partitions in (await partitions_by_topic(topics, admin=admin)).items():
            if partitions:
                chosen = TopicPartition(topic, partitioner(key, partitions, partitions))
                expected.add(chosen)
                parts.extend(
                    (TopicPartition(topic, p) for p in sorted(partitions))
                    if everywhere
                    else (chosen,)
                )
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                found.extend((r.timestamp, tp.topic, r) for r in records if r.key == key)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    found.sort(key=lambda item: (item[0], item[2].offset))
    traced = [_traced(topic, record) for _, topic, record in found]
    return [
        replace(event, misplaced=True)
        if TopicPartition(event.topic, event.partition) not in expected
        else event
        for event in traced
    ]


def _traced(topic: str, record: Any) -> TracedEvent:
    at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    where = (at, topic, record.partition, record.offset)
    if topic.endswith(".dlq"):
        headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers}
        error = headers.get("dlq.error", "")[:80]
        reason = headers.get("dlq.reason")
        summary = f"dead letter: {reason} ({error})"
        return TracedEvent(*where, None, None, None, None, summary, reason)
    try:
        env = decode(record.value or b"", content_type=content_type(record.headers))
    except InvalidMessage as error:
        return TracedEvent(
            *where, None, None, None, None, f"unreadable: {error.reason}", error.reason
        )
    cause = str(env.causation_id) if env.causation_id else None
    return TracedEvent(
        *where, env.event_type, str(env.event_id), env.producer, cause, _summary(env.payload)
    )


def _summary(payload: Any) -> str:
    fields = (
        "status",
        "outcome",
        "reason",
        "reason_code",
        "quote_number",
        "order_number",
        "invoice_number",
        "revision",
        "completeness",
        "amount",
        "balance_due",
    )
    parts = []
    for name in fields:
        value = getattr(payload, name, None)
        if value is not None:
            parts.append(f"{name}={getattr(value, 'value', value)}")
    totals = getattr(payload, "totals", None)
    if totals is not None:
        parts.append(f"total={totals.grand_total} {getattr(payload, 'currency', '')}")
    return " ".join(parts)
