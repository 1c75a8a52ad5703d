"""Which partitions a topic has, through the public admin API (shared.topic_partitions): every
declared partition, nothing for a topic that does not exist, and never a topic created by asking."""

from __future__ import annotations

import pytest

from contracts.topics import topic
from shared import kafka_clients
from shared.topic_partitions import partitions_by_topic, topic_partitions
from tests.support.infra import Endpoints
from tests.support.leads import new_run_id

pytestmark = pytest.mark.integration


async def test_every_declared_partition_and_none_of_a_missing_topic(endpoints: Endpoints) -> None:
    missing = f"no.such.topic.{new_run_id()}"
    found = await partitions_by_topic(
        ["lead.captured", missing], admin=kafka_clients.admin(endpoints.kafka)
    )
    assert found == {
        "lead.captured": list(range(topic("lead.captured").partitions)),
        missing: [],
    }
    parts = await topic_partitions(endpoints.kafka, ["lead.commands", "lead.captured"])
    assert parts[0].topic == "lead.commands", "topics in the order given"
    assert len(parts) == topic("lead.commands").partitions + topic("lead.captured").partitions

    admin = kafka_clients.admin(endpoints.kafka)
    await admin.start()
    try:
        assert missing not in await admin.list_topics(), "asking created nothing"
    finally:
        await admin.close()
