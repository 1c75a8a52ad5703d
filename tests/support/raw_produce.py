"""Records no well-behaved client library will write: built byte by byte with aiokafka's
pure-Python batch builder and sent in a plain ProduceRequest (header names that are not UTF-8,
as `kcat -H $'\\xff\\xfe=x'` writes them)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import TopicPartition
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy

from shared import kafka_clients

Header = tuple[str | bytes, bytes]


class _RawName(str):
    """A header name the Python builder writes as the given bytes."""

    __slots__ = ("raw",)
    raw: bytes

    def __new__(cls, raw: bytes) -> _RawName:
        made = super().__new__(cls, raw.decode("latin-1"))
        made.raw = raw
        return made

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


def batch(records: Sequence[tuple[bytes | None, bytes, Sequence[Header]]]) -> bytes:
    """A record batch of (key, value, headers); a header name given as bytes is written as is."""
    builder = _DefaultRecordBatchBuilderPy(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for delta, (key, value, headers) in enumerate(records):
        named = [(_RawName(n) if isinstance(n, bytes) else n, v) for n, v in headers]
        builder.append(delta, timestamp=None, key=key, value=value, headers=named)
    return bytes(builder.build())


async def produce_batch(bootstrap: str, tp: TopicPartition, data: bytes) -> None:
    client = kafka_clients.client(bootstrap)
    await client.bootstrap()
    try:
        client.add_topic(tp.topic)
        await client.force_metadata_update()
        leader = client.cluster.leader_for_partition(tp)
        request = ProduceRequest(
            required_acks=-1,
            timeout=10_000,
            topics=[(tp.topic, [(tp.partition, data)])],
            transactional_id=None,
        )
        response = await client.send(leader, request)
        for _topic, partitions in response.topics:
            for partition in partitions:
                if partition[1] != 0:
                    raise RuntimeError(f"produce refused: {partition}")
    finally:
        await client.close()
