"""Creates the project's topics with their declared partitions and settings.

FastStream 0.7 would otherwise create a missing topic on subscriber start with ONE partition,
which silently caps a consumer group at one active member; workers run with auto-creation off
and call this instead (so does `salesflow topics create`).
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import TopicSpec

log = structlog.stdlib.get_logger("salesflow.topics")

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    wanted = {spec.name: spec for spec in specs}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="salesflow-admin")
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
                    topic_configs={"cleanup.policy": "compact"} if spec.compacted else {},
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
