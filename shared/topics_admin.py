"""Creates the project's topics with their declared partitions and settings.

FastStream 0.7 would otherwise create a missing topic on subscriber start with ONE partition,
which silently caps a consumer group at one active member; workers run with auto-creation off
and call this instead (so does `salesflow topics create`).
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.topics import COMPACTION_MAX_LAG, TopicSpec, retention_of
from shared import kafka_clients
from shared.kafka_security import KafkaSecurity

log = structlog.stdlib.get_logger("salesflow.topics")

TOPIC_ALREADY_EXISTS = 36


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """The topic's settings from its declaration: how long records stay (contracts.topics)."""
    retention = retention_of(spec)
    if retention is None:
        lag = COMPACTION_MAX_LAG.total_seconds() * 1000
        # a segment rolls daily, so a superseded record becomes compactable in time
        return {
            "cleanup.policy": "compact",
            "max.compaction.lag.ms": str(int(lag)),
            "segment.ms": str(24 * 3600 * 1000),
        }
    return {"cleanup.policy": "delete", "retention.ms": str(int(retention.total_seconds() * 1000))}


async def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    replication_factor: int = 1,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    wanted = {spec.name: spec for spec in specs}
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=replication_factor,
                    topic_configs=topic_config(spec),
                )
                for spec in missing
            ]
        )
        created = []
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:  # a concurrent creator won the race: fine
                raise RuntimeError(f"cannot create topic {name}: error code {code} {topic_error}")
        log.info("topics_created", topics=created)
        return created
    finally:
        await admin.close()


async def align_topic_configs(
    bootstrap: str, specs: Iterable[TopicSpec], *, security: KafkaSecurity | None = None
) -> None:
    """Give existing topics the settings their declaration asks for (a topic created before a
    retention was declared keeps the broker's default otherwise). AlterConfigs replaces a
    topic's dynamic settings as a whole, which is what a declaration means."""
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-admin")
    await admin.start()
    try:
        await admin.alter_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, s.name, configs=topic_config(s))
                for s in specs
            ]
        )
    finally:
        await admin.close()
