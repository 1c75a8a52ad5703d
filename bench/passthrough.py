"""The baseline: a raw aiokafka pass-through in its own process (`python -m bench passthrough`).

Consume a topic in a consumer group, produce each record (same key, value and headers) to another
topic with the relay's own producer settings (`shared.relay.make_producer`: acks=all,
idempotent), await the acks, commit the batch's offsets, repeat. Batches are polled with the
workers' batch settings. No database, no decoding: what Kafka and aiokafka cost on this machine,
the floor under any stage. It prints a JSON line when its partitions are assigned (the start of
the measured interval, the same event a worker logs) and runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from shared import kafka_clients
from shared.relay import make_producer


class _Announce(ConsumerRebalanceListener):  # type: ignore[misc]
    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        line = {
            "event": "partitions_assigned",
            "timestamp": datetime.now(UTC).isoformat(),
            "partitions": len(assigned),
        }
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()


async def run(
    bootstrap: str, source: str, target: str, group: str, max_records: int, timeout_ms: int
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    consumer = kafka_clients.consumer(
        bootstrap=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    consumer.subscribe([source], listener=_Announce())
    producer = make_producer(bootstrap, f"salesflow-bench-passthrough-{os.getpid()}")
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
            if not batches:
                continue
            pending = [
                await producer.send(target, r.value, key=r.key, headers=list(r.headers))
                for records in batches.values()
                for r in records
            ]
            await asyncio.gather(*pending)
            await consumer.commit(
                {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
            )
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        with contextlib.suppress(Exception):
            await consumer.stop()


def main(argv: Sequence[str]) -> None:
    import argparse  # noqa: PLC0415 - only this entry point parses these arguments

    parser = argparse.ArgumentParser(prog="python -m bench passthrough")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--max-records", type=int, default=500)
    parser.add_argument("--timeout-ms", type=int, default=50)
    args = parser.parse_args(argv)
    asyncio.run(
        run(args.bootstrap, args.source, args.target, args.group, args.max_records, args.timeout_ms)
    )
