"""`salesflow acl ...` and `salesflow db roles`: who may do what on Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from contracts.access import PRINCIPALS

acl_app = typer.Typer(help="Kafka ACLs, generated from the topic map.", no_args_is_help=True)
db_app = typer.Typer(help="PostgreSQL roles.", no_args_is_help=True)
erase_app = typer.Typer(help="Erase personal data (right to erasure).", no_args_is_help=True)


def access_markdown() -> str:
    """The access model as the README shows it: one row per principal."""
    rows = [
        "| principal | who | may write | may read | consumer group |",
        "|---|---|---|---|---|",
    ]
    for p in PRINCIPALS:
        if p.super_user:
            rows.append(f"| `{p.name}` | {p.does} | everything (super user) | everything | any |")
            continue
        writes = ", ".join(f"`{t}`" for t in p.writes) or "-"
        reads = ", ".join(f"`{t}`" for t in p.reads) or "-"
        group = f"`{p.group}`{'*' if p.group_is_prefix else ''}" if p.group else "-"
        rows.append(f"| `{p.name}` | {p.does} | {writes} | {reads} | {group} |")
    return "\n".join(rows)


@acl_app.command("apply")
def acl_apply(
    quiet: Annotated[bool, typer.Option(help="Print only a count.")] = False,
) -> None:
    """Write the ACLs of every principal (as the admin; only what the broker lacks)."""
    from shared.kafka_acl import apply, bindings  # noqa: PLC0415 - each command loads only what it uses
    from shared.settings import RuntimeSettings  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    created = asyncio.run(
        apply(runtime.kafka_bootstrap, bindings(), security=runtime.kafka_security)
    )
    if not quiet:
        for binding in created:
            typer.echo(
                f"+ User:{binding.principal} {binding.operation} {binding.resource} "
                f"{binding.name}{'*' if binding.pattern == 'PREFIXED' else ''}"
            )
    typer.echo(f"{len(created)} ACLs created, {len(bindings())} declared")


@acl_app.command("show")
def acl_show(
    broker: Annotated[
        bool, typer.Option("--broker", help="What the broker holds, instead of the model.")
    ] = False,
) -> None:
    """The access model as a table (the README's), or the bindings the broker holds."""
    if not broker:
        typer.echo(access_markdown())
        return
    from shared.kafka_acl import bindings, describe  # noqa: PLC0415 - each command loads only what it uses
    from shared.settings import RuntimeSettings  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    held = asyncio.run(describe(runtime.kafka_bootstrap, security=runtime.kafka_security))
    declared = set(bindings())
    for binding in held:
        mark = " " if binding in declared else "?"  # ? held but not declared
        typer.echo(
            f"{mark} User:{binding.principal} {binding.operation} {binding.resource} "
            f"{binding.name}{'*' if binding.pattern == 'PREFIXED' else ''}"
        )
    missing = declared - set(held)
    for binding in sorted(missing):
        typer.echo(
            f"- User:{binding.principal} {binding.operation} {binding.resource} {binding.name}"
        )
    typer.echo(f"{len(held)} held, {len(missing)} declared but missing (salesflow acl apply)")


@db_app.command("roles")
def db_roles(
    passwords: Annotated[
        Path, typer.Option(help="Directory with a file per role holding its password.")
    ],
) -> None:
    """Create the service roles and the reporting role, give each service its schema (as the
    database's owner or a superuser; idempotent)."""
    from sqlalchemy import text  # noqa: PLC0415 - each command loads only what it uses
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - each command loads only what it uses

    from shared.db import make_engine  # noqa: PLC0415 - each command loads only what it uses
    from shared.db_roles import passwords_from, role_statements  # noqa: PLC0415 - each command loads only what it uses
    from shared.settings import RuntimeSettings  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    url = runtime.sqlalchemy_url()
    owner = make_url(url).username or "postgres"

    async def run() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                for statement in role_statements(passwords_from(passwords), owner):
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo("database roles applied")


@erase_app.command("contact")
def erase_contact(
    requested_by: Annotated[str, typer.Option(help="Who asked (a user id, a privacy queue).")],
    contact_id: Annotated[
        list[str] | None, typer.Option("--contact-id", help="A contact's id (repeatable).")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="An email: its contact, and leads never qualified.")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="The request's own reference.")] = None,
) -> None:
    """Erase a person's data from every service (names replaced by a marker, email, phone, job
    title and notes removed; ids, numbers and amounts kept) and publish contact.erased."""
    from uuid import UUID  # noqa: PLC0415 - each command loads only what it uses

    from salesflow import erasure  # noqa: PLC0415 - each command loads only what it uses
    from shared.erasure import ErasureRequest  # noqa: PLC0415 - each command loads only what it uses
    from shared.settings import RuntimeSettings  # noqa: PLC0415 - each command loads only what it uses

    if not contact_id and not email:
        raise typer.BadParameter("name the person: --contact-id and/or --email")
    try:
        ids = frozenset(UUID(value) for value in contact_id or ())
    except ValueError:
        raise typer.BadParameter("--contact-id takes a UUID") from None
    runtime = RuntimeSettings()
    report = asyncio.run(
        erasure.erase_contact(
            runtime,
            ErasureRequest(ids, email),
            requested_by=requested_by,
            reference=reference,
        )
    )
    typer.echo(erasure.render(report))
