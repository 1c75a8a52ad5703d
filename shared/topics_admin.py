"""Creates the project's topics with their declared partitions and settings.

FastStream 0.7 would otherwise create a missing topic on subscriber start with ONE partition,
which silently caps a consumer group at one active member; workers run with auto-creation off
and call this instead (so does `salesflow topics create`). Every topic gets its declared
configuration (cleanup policy, retention: `TopicSpec.configs`) when it is created;
`apply_configs` brings topics created before a change of those declarations in line.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.topics import TopicSpec
from shared import kafka_clients
from shared.kafka_security import KafkaSecurity

log = structlog.stdlib.get_logger("salesflow.topics")

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    replication_factor: int = 1,
    security: KafkaSecurity | None = None,
    admin: AIOKafkaAdminClient | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. `admin`: a client
    built by the caller (not started; it is closed here), else one to `bootstrap`."""
    wanted = {spec.name: spec for spec in specs}
    if admin is None:
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
                    topic_configs=spec.configs,
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


async def topic_configs(
    bootstrap: str, specs: Iterable[TopicSpec], *, security: KafkaSecurity | None = None
) -> dict[str, dict[str, str]]:
    """The broker's current value of every config key the specs declare, per topic."""
    specs = list(specs)
    keys = sorted({key for spec in specs for key in spec.configs})
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-admin")
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, dict.fromkeys(keys)) for s in specs]
        )
    finally:
        await admin.close()
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.resources:
            code, _message, _type, name, entries = resource[:5]
            if not code:
                found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def apply_configs(
    bootstrap: str, specs: Iterable[TopicSpec], *, security: KafkaSecurity | None = None
) -> list[str]:
    """Set the declared configuration on existing topics whose broker values differ; returns
    their names. The broker's (non-incremental) AlterConfigs replaces a topic's dynamic
    configuration with the one given, which is the whole declared one."""
    wanted = {spec.name: spec for spec in specs}
    current = await topic_configs(bootstrap, wanted.values(), security=security)
    stale = [
        spec
        for name, spec in wanted.items()
        if name in current
        and any(current[name].get(key) != value for key, value in spec.configs.items())
    ]
    if not stale:
        return []
    admin = kafka_clients.admin(bootstrap, security=security, client_id="salesflow-admin")
    await admin.start()
    try:
        responses = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, s.configs) for s in stale]
        )
    finally:
        await admin.close()
    for response in responses:
        for code, message, _type, name in response.resources:
            if code:
                raise RuntimeError(f"cannot configure topic {name}: error {code} {message}")
    names = [spec.name for spec in stale]
    log.info("topic_configs_applied", topics=names)
    return names
