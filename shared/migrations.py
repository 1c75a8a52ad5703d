"""Alembic plumbing shared by the per-service migration folders.

Each service keeps its own versions and its own version table inside its own schema; its
`env.py` is one call to `run_env`. Migrations take a PostgreSQL advisory lock so that several
workers starting at once (a scaled deployment) apply them exactly once.

Migrations run as the service's own role (`shared.db_roles`) whenever the connecting user may
act as it (the service itself, or the database's owner running `salesflow migrate`), so every
table they create belongs to the service and to nobody else.
"""

from __future__ import annotations

import asyncio

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import advisory_key, engine_arguments


def alembic_config(url: str, service: str, location: str | None = None) -> Config:
    """`location`: the package's migrations (`pkg:migrations`); a service's by default."""
    config = Config()
    config.set_main_option("script_location", location or f"services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, service: str, revision: str = "head", *, location: str | None = None) -> None:
    """Bring the service's schema to `revision` (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(url, service, location), revision)


async def upgrade_async(url: str, service: str, *, location: str | None = None) -> None:
    await asyncio.to_thread(upgrade, url, service, location=location)


def run_env(schema: str, metadata: MetaData) -> None:
    """Body of a service's migrations/env.py (online mode only: a database is always at hand)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        bare, tls = engine_arguments(url)
        engine = create_async_engine(bare, connect_args=tls)
        try:
            async with engine.connect() as conn:
                await conn.execute(
                    text("SELECT pg_advisory_lock(:key)"),
                    {"key": advisory_key(f"salesflow.migrate.{schema}")},
                )
                role = await conn.scalar(
                    text(
                        "SELECT rolname FROM pg_roles WHERE rolname = :schema"
                        " AND pg_has_role(current_user, oid, 'MEMBER')"
                    ),
                    {"schema": schema},
                )
                exists = await conn.scalar(
                    text("SELECT true FROM pg_namespace WHERE nspname = :schema"),
                    {"schema": schema},
                )
                if not exists:
                    owner = f' AUTHORIZATION "{role}"' if role else ""
                    await conn.execute(text(f'CREATE SCHEMA "{schema}"{owner}'))
                if role:
                    await conn.execute(text(f'SET ROLE "{role}"'))
                await conn.commit()
                await conn.run_sync(migrate)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())
