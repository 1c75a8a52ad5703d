"""Consumer lag: how many records each worker's group has not committed past."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiokafka import TopicPartition

from shared import kafka_clients
from shared.topic_partitions import every_partition


async def group_lags(bootstrap: str, groups: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """group -> records on its topics beyond its committed offsets (all partitions)."""
    admin = kafka_clients.admin(bootstrap)
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await admin.start()
    try:
        await consumer.start()
        try:
            known = await every_partition(admin)
            lags = {}
            for group, topics in groups.items():
                parts = [TopicPartition(t, p) for t in topics for p in known.get(t, [])]
                # Assigned first: aiokafka then loads the leaders in one metadata request.
                consumer.assign(parts)
                ends = await consumer.end_offsets(parts)
                committed = await admin.list_consumer_group_offsets(group, partitions=parts)
                lags[group] = sum(
                    end - max(committed[tp].offset if tp in committed else 0, 0)
                    for tp, end in ends.items()
                )
            return lags
        finally:
            await consumer.stop()
    finally:
        await admin.close()
