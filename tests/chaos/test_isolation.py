"""A run refuses a database that another deployment's workers use (seed 20261205 on a cluster,
RELIABILITY.md): their relays would take the run's outbox rows and publish them to their own
Kafka, so the run's events would be lost to its own consumers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from chaos.db import worker_connections
from chaos.harness import refuse_foreign_workers
from chaos.infra import SetupError
from chaos.verdict import isolated
from shared.db import make_engine
from tests.support.infra import Endpoints

pytestmark = pytest.mark.chaos


async def test_a_run_refuses_a_database_another_deployment_uses(endpoints: Endpoints) -> None:
    # what a lead_svc worker of another deployment holds: a connection named after its service
    engine = make_engine(endpoints.database_url, pool_size=1, application_name="lead_svc")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            with pytest.raises(SetupError, match="lead_svc"):
                await refuse_foreign_workers(endpoints.database_url)
    finally:
        await engine.dispose()
    # alone again, it runs (the backend ends a moment after its client closed the connection)
    for _ in range(20):
        if not await worker_connections(endpoints.database_url):
            break
        await asyncio.sleep(0.25)
    await refuse_foreign_workers(endpoints.database_url)


def test_workers_left_after_the_run_fail_it() -> None:
    assert isolated({}).passed
    assert not isolated({"quote_svc": 2}).passed
