"""The outbox hand-over: when may the relay publish a committed batch from memory?

Only when, as the batch inserted its rows, the outbox held nothing but rows this process had
already handed over (those are sent first, in order). The statement that inserts the rows says
so; this test checks its answer against a real PostgreSQL, in a schema of its own. The relay's
decision that follows from it is unit-tested (tests/unit/test_relay.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine, runtime_tables
from shared.mailbox.postgres import PostgresMailbox
from shared.messages import Outgoing
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration


def _records(n: int) -> list[Outgoing]:
    return [
        Outgoing(topic="t", key=f"k{i}".encode(), payload=b"{}", headers=[("h", b"v")])
        for i in range(n)
    ]


async def _insert(
    mailbox: PostgresMailbox, records: list[Outgoing], pending: list[int]
) -> tuple[list[int], bool]:
    async with mailbox.transaction() as tx:
        posted = await tx.post(records, pending)
    return posted.ids, not posted.alone


async def _scratch_schema(database_url: str) -> tuple[AsyncEngine, str]:
    schema = f"handover_{uuid.uuid4().hex[:8]}"
    engine = make_engine(database_url, pool_size=2, application_name="test")
    metadata = MetaData(schema=schema)
    runtime_tables(metadata, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(metadata.create_all)
    return engine, schema


def test_insert_says_whether_anything_but_pending_rows_waited(endpoints: Endpoints) -> None:
    async def scenario() -> None:
        engine, schema = await _scratch_schema(endpoints.database_url)
        mailbox = PostgresMailbox(engine, schema)
        try:
            first, others = await _insert(mailbox, _records(3), [])
            assert others is False, "an empty outbox holds nothing older"
            assert len(first) == 3 and first == sorted(first)

            second, others = await _insert(mailbox, _records(2), first)
            assert others is False, "only rows already handed over were waiting"

            third, others = await _insert(mailbox, _records(1), first[:2])
            assert others is True, "a waiting row that was not handed over must go first"

            _, others = await _insert(mailbox, _records(1), [*first, *second, *third])
            assert others is False, "every waiting row was handed over"

            await mailbox.delete(list(range(1, 1000)))
            # A batch's own rows never count (the CTE's rows are not in the statement's
            # snapshot), so a batch into an empty outbox is alone whatever its size ...
            fifty, others = await _insert(mailbox, _records(50), [])
            assert others is False and len(fifty) == 50
            # ... and the next batch, told nothing was handed over, is not.
            _, others = await _insert(mailbox, _records(1), [])
            assert others is True
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await engine.dispose()

    asyncio.run(scenario())
