"""The lifecycle driver's publisher: every record delivered, whatever the broker goes through.

A send that fails is sent again with the same bytes (same event id: the consumers' inboxes absorb
any copy); a producer that stays stuck is replaced. The last records sent are kept as sent, for
the fault injector's duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.envelope import Envelope, encode, kafka_headers
from shared import kafka_clients


@dataclass(frozen=True)
class SentRecord:
    """A record as the driver published it: the exact bytes, for re-publishing a copy."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


class Publisher:
    def __init__(self, bootstrap: str, keep_recent: int = 0) -> None:
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[tuple[SentRecord, asyncio.Future[Any]]] = []
        self.send_retries = 0
        self.recent: deque[SentRecord] = deque(maxlen=max(keep_recent, 0))

    async def start(self) -> None:
        self._producer = kafka_clients.producer(
            self._bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        await self._producer.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), timeout=30)
        if self._producer is not None:
            await self._producer.stop()

    async def send(
        self,
        topic: str,
        envelope: Envelope[Any],
        extra_headers: tuple[tuple[str, bytes | None], ...] = (),
    ) -> None:
        record = SentRecord(
            topic,
            envelope.deal_id.encode(),
            encode(envelope),
            (*kafka_headers(envelope), *extra_headers),
        )
        await self.send_record(record)

    async def send_record(self, record: SentRecord) -> None:
        """Publish a record already encoded (the benchmark builds its leads before the clock
        starts and sends their bytes as they are)."""
        self.recent.append(record)
        # Awaited before touching the list: a concurrent flush swaps self._pending meanwhile.
        future = await self._submit(record)
        self._pending.append((record, future))

    async def _submit(self, record: SentRecord) -> asyncio.Future[Any]:
        """Hand the record to the producer, waiting out a broker outage (send() itself fails
        when it cannot learn the partition's leader in time)."""
        delay = 0.2
        while True:
            assert self._producer is not None
            try:
                future: asyncio.Future[Any] = await self._producer.send(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
            except KafkaError:
                self.send_retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                return future

    async def flush(self) -> None:
        """Await every delivery; what failed is sent again (same bytes, same event id)."""
        failures = 0
        while self._pending:
            pending, self._pending = self._pending, []
            results = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
            failed = [
                record
                for (record, _), result in zip(pending, results, strict=True)
                if isinstance(result, BaseException)
            ]
            if not failed:
                continue
            failures += 1
            self.send_retries += len(failed)
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            if failures % 5 == 0:
                # An idempotent producer can end up fenced or out of sequence after the broker
                # lost its state: a fresh producer (new producer id) gets going again.
                old = self._producer
                await self.start()
                if old is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(old.stop(), timeout=5)
            for record in failed:
                future = await self._submit(record)
                self._pending.append((record, future))
