"""Which partitions a topic has, asked of the broker through aiokafka's public admin API.

The tools that read topics by assignment (trace, dead letters, replay, lag, chaos, bench, the
simulator, the tests' probes) need every partition of some topics. They used to refresh a
consumer's private client (`consumer._client.force_metadata_update()`) and read
`partitions_for_topic`; `AIOKafkaConsumer.topics()` is no substitute, as it fetches into a
throw-away cluster view and returns names only.

Behaviour kept from the private call: one metadata request for ALL topics (never for named
ones, which an aiokafka MetadataRequest v4+ asks the broker to auto-create), a topic the
principal may not see or that does not exist has no partitions, and a topic whose metadata
came back without error has every partition listed, with or without a leader.

A consumer that asks `end_offsets` of partitions it has not assigned makes aiokafka learn their
leaders one topic per retry (100 ms each): callers assign first, which loads them in one request.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared import kafka_clients
from shared.kafka_security import KafkaSecurity


async def every_partition(admin: AIOKafkaAdminClient) -> dict[str, list[int]]:
    """topic -> sorted partition numbers of every topic the principal may see, asked with a
    started `admin` (for callers that hold one anyway)."""
    described = await admin.describe_topics()  # None: every topic, never an auto-creation
    return {
        topic["topic"]: sorted(p["partition"] for p in topic["partitions"])
        for topic in described
        if topic["error_code"] == 0
    }


async def partitions_by_topic(
    topics: Iterable[str], *, admin: AIOKafkaAdminClient
) -> dict[str, list[int]]:
    """topic -> its partition numbers, sorted (empty when the topic is unknown or hidden), asked
    with `admin`, a client built by the caller (not started; it is started and closed here)."""
    await admin.start()
    try:
        known = await every_partition(admin)
    finally:
        await admin.close()
    return {name: known.get(name, []) for name in topics}


async def topic_partitions(
    bootstrap: str, topics: Iterable[str], *, security: KafkaSecurity | None = None
) -> list[TopicPartition]:
    """Every partition of `topics`, topic by topic in the order given, partitions ascending."""
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-metadata")
    found = await partitions_by_topic(topics, admin=admin)
    return [TopicPartition(topic, p) for topic, numbers in found.items() for p in numbers]
