"""Session-wide fixtures: the real Kafka and PostgreSQL endpoints (see tests/support/infra.py),
with every topic created and every service schema migrated before the first test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.topics import ALL_TOPICS
from shared.migrations import upgrade
from shared.settings import replication_factor_from_env
from shared.topics_admin import ensure_topics
from tests.support.infra import REPO, Endpoints, resolve_endpoints

SERVICES = sorted(p.parent.parent.name for p in (REPO / "services").glob("*/migrations/env.py"))


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    found, containers = resolve_endpoints()
    stoppable: list[Any] = containers
    replicas = replication_factor_from_env(os.environ)
    asyncio.run(ensure_topics(found.kafka, ALL_TOPICS, replication_factor=replicas))
    for service in SERVICES:
        upgrade(found.database_url, service)
    upgrade(found.database_url, "gateway", location="gateway:migrations")
    yield found
    for container in stoppable:
        container.stop()
