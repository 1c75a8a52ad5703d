"""Each service's migrations build exactly the tables its code declares: autogenerate against
the migrated schema finds nothing to add, drop or alter (types and server defaults included)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.stages import STAGES
from tests.support.infra import Endpoints

pytestmark = pytest.mark.integration


# Each service's store, and the gateway's (its own schema, migrated with the others).
STORES = [(s.service, f"services.{s.service}.store") for s in STAGES] + [
    ("gateway", "gateway.store")
]


@pytest.mark.parametrize(("schema", "module"), STORES, ids=[s for s, _ in STORES])
async def test_migrations_and_tables_agree(endpoints: Endpoints, schema: str, module: str) -> None:
    store = importlib.import_module(module)
    metadata: MetaData = store.metadata

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _parent: type_ != "schema" or name == schema,
                "compare_type": True,
                "compare_server_default": True,
                "version_table_schema": schema,
            },
        )
        diffs: list[Any] = compare_metadata(context, metadata)
        return [d for d in diffs if "alembic_version" not in repr(d)]

    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == [], f"{schema}: the tables in code and the migrated schema differ: {found}"
