"""The outbox hand-over: when may the relay publish a committed batch from memory?

Only when, as the batch inserted its rows, the outbox held nothing but rows this process had
already handed over (those are sent first, in order). The statement that inserts the rows says
so; these tests check its answer against a real PostgreSQL, in a schema of their own, and the
relay's decision that follows from it.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.consumer import Pending, RetryPolicy
from shared.db import SchemaSql, make_engine, runtime_tables
from shared.health import Readiness
from shared.messages import Outgoing
from shared.metrics import WorkerMetrics
from shared.relay import OutboxRelay, make_producer
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration


def _records(n: int) -> list[Outgoing]:
    return [
        Outgoing(topic="t", key=f"k{i}".encode(), payload=b"{}", headers=[("h", b"v")])
        for i in range(n)
    ]


async def _insert(
    engine: AsyncEngine, sql: SchemaSql, records: list[Outgoing], pending: list[int]
) -> tuple[list[int], bool]:
    async with engine.begin() as conn:
        ids, others = (
            await conn.execute(
                sql.insert_outbox,
                {
                    "topics": [r.topic for r in records],
                    "keys": [r.key for r in records],
                    "payloads": [r.payload for r in records],
                    "headers": ["[]" for _ in records],
                    "pending": pending,
                },
            )
        ).one()
    return list(ids), bool(others)


async def _scratch_schema(database_url: str) -> tuple[AsyncEngine, SchemaSql]:
    schema = f"handover_{uuid.uuid4().hex[:8]}"
    engine = make_engine(database_url, pool_size=2, application_name="test")
    metadata = MetaData(schema=schema)
    runtime_tables(metadata, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(metadata.create_all)
    return engine, SchemaSql(schema)


def test_insert_says_whether_anything_but_pending_rows_waited(endpoints: Endpoints) -> None:
    async def scenario() -> None:
        engine, sql = await _scratch_schema(endpoints.database_url)
        try:
            first, others = await _insert(engine, sql, _records(3), [])
            assert others is False, "an empty outbox holds nothing older"
            assert len(first) == 3 and first == sorted(first)

            second, others = await _insert(engine, sql, _records(2), first)
            assert others is False, "only rows already handed over were waiting"

            third, others = await _insert(engine, sql, _records(1), first[:2])
            assert others is True, "a waiting row that was not handed over must go first"

            _, others = await _insert(engine, sql, _records(1), [*first, *second, *third])
            assert others is False, "every waiting row was handed over"

            async with engine.begin() as conn:
                await conn.execute(sql.delete_outbox, {"ids": list(range(1, 1000))})
            # A batch's own rows never count (the CTE's rows are not in the statement's
            # snapshot), so a batch into an empty outbox is alone whatever its size ...
            fifty, others = await _insert(engine, sql, _records(50), [])
            assert others is False and len(fifty) == 50
            # ... and the next batch, told nothing was handed over, is not.
            _, others = await _insert(engine, sql, _records(1), [])
            assert others is True
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{sql.schema}" CASCADE'))
            await engine.dispose()

    asyncio.run(scenario())


def test_relay_sends_from_memory_only_what_was_judged_against_its_current_queue(
    endpoints: Endpoints,
) -> None:
    relay = OutboxRelay(
        service="lead_svc",
        engine=make_engine(endpoints.database_url, pool_size=1, application_name="test"),
        producer_factory=lambda: make_producer(endpoints.kafka, "test"),
        metrics=WorkerMetrics(f"test_{uuid.uuid4().hex[:6]}"),
        readiness=Readiness(),
        batch_size=100,
        poll_interval_s=0.5,
        retry=RetryPolicy(),
        inbox_retention_s=3600,
    )
    seen = relay.pending()
    assert seen.ids == []
    relay.committed(_records(2), [10, 11], alone=True, seen=seen)
    assert sorted(relay.pending().ids) == [10, 11]

    relay.committed(_records(1), [12], alone=False, seen=relay.pending())
    assert 12 not in relay.pending().ids, "rows behind other rows leave by polling, in id order"

    stale = Pending(era=seen.era - 1, ids=[])
    relay.committed(_records(1), [13], alone=True, seen=stale)
    assert 13 not in relay.pending().ids, "judged against a queue a failure has since emptied"

    relay.committed(_records(2), [14], alone=True, seen=relay.pending())
    assert 14 not in relay.pending().ids, "ids and records must pair up"
