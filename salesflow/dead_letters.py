"""Reading and re-driving a service's dead-letter topic."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from shared import kafka_clients

DLQ_HEADERS_PREFIX = "dlq."


async def _read_all(bootstrap: str, topic: str, limit: int | None) -> list[Any]:
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list[Any] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=1000)
            for recs in batch.values():
                records.extend(recs)
            if limit is not None and len(records) >= limit:
                break
        return records[:limit] if limit is not None else records
    finally:
        await consumer.stop()


async def show(bootstrap: str, service: str, limit: int) -> None:
    for record in await _read_all(bootstrap, f"{service}.dlq", limit):
        headers = {
            k: (v.decode("utf-8", "replace") if v is not None else None) for k, v in record.headers
        }
        value = record.value or b""
        print(  # noqa: T201 - a CLI's output
            f"{headers.get('dlq.source_topic')}[{headers.get('dlq.source_partition')}]"
            f"@{headers.get('dlq.source_offset')} reason={headers.get('dlq.reason')} "
            f"error={headers.get('dlq.error')!r} bytes={value[:120]!r}"
        )


async def redrive(bootstrap: str, service: str, reason: str | None) -> int:
    records = await _read_all(bootstrap, f"{service}.dlq", None)
    producer = kafka_clients.producer(bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        deliveries = []
        for record in records:
            headers = list(record.headers)
            info = {k: v for k, v in headers if k.startswith(DLQ_HEADERS_PREFIX)}
            if reason is not None and info.get("dlq.reason") != reason.encode():
                continue
            source = info.get("dlq.source_topic")
            if not source:
                continue
            original = [(k, v) for k, v in headers if not k.startswith(DLQ_HEADERS_PREFIX)]
            deliveries.append(
                await producer.send(
                    source.decode(),
                    record.value,
                    key=record.key,
                    headers=original,
                )
            )
        await asyncio.gather(*deliveries)
        return len(deliveries)
    finally:
        await producer.stop()
