"""PostgreSQL least privilege: a role per service that owns its schema and nothing else, and a
read-only role for the reporting commands.

The statements are idempotent and run by the database's owner (`infra/postgres.sh` at every
start, the compose setup job): roles created once, passwords set from files, schemas and
everything in them handed to their service's role (also what an earlier, single-role install
made), `PUBLIC` stripped of the database and the schemas. Migrations then run as the service's
role (`shared.migrations`), so whatever they create belongs to it.

    python -m shared.db_roles names                 the roles, one per line
    python -m shared.db_roles sql DIR OWNER         the SQL, passwords read from DIR/<role>
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from contracts.stages import SERVICES

__all__ = ["GATEWAY", "OWNERS", "READER", "ROLES", "role_statements"]

# The reporting commands (report, receivables, statement, trace, reconcile) read as this role.
READER: Final = "salesflow_reader"
# The HTTP gateway owns its own schema (its inbox, outbox and requests; gateway.store.SCHEMA) and
# reads the services' tables as the reporting commands do (a member of READER).
GATEWAY: Final = "gateway"
OWNERS: Final[tuple[str, ...]] = (*SERVICES, GATEWAY)
ROLES: Final[tuple[str, ...]] = (*OWNERS, READER)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return f'"{name}"'


def role_statements(passwords: Mapping[str, str], owner: str) -> list[str]:
    """The SQL that gives every role of `ROLES` its password, its schema and its grants.

    `owner` is the database's owner: it is made a member of every role, so operators (and the
    tests) can still read everything and run a service's migrations as that service."""
    statements = []
    for role in ROLES:
        name = _ident(role)
        statements += [
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) "
            f"THEN CREATE ROLE {name} LOGIN; END IF; END $$",
            f"ALTER ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"PASSWORD {_literal(passwords[role])}",
            f"GRANT {name} TO {_ident(owner)}",
            "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO "
            f"{name}', current_database()); END $$",
        ]
    statements += [
        "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', "
        "current_database()); END $$",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    reader = _ident(READER)
    statements.append(f"GRANT {reader} TO {_ident(GATEWAY)}")
    for service in OWNERS:
        schema = _ident(service)
        statements += [
            f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {schema}",
            f"ALTER SCHEMA {schema} OWNER TO {schema}",
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
            _hand_over(service),
            f"GRANT USAGE ON SCHEMA {schema} TO {reader}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {reader}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {schema} IN SCHEMA {schema} "
            f"GRANT SELECT ON TABLES TO {reader}",
        ]
    return statements


def _hand_over(service: str) -> str:
    """Tables (with their sequences), views and types in the schema that another role made
    (an install from before the roles existed) become the service's."""
    role = _literal(service)
    return f"""DO $$ DECLARE stmt text; BEGIN
  FOR stmt IN
    SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, {role})
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = {role} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND pg_get_userbyid(c.relowner) <> {role}
    UNION ALL
    SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, {role})
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = {role} AND t.typtype IN ('e', 'd')
      AND pg_get_userbyid(t.typowner) <> {role}
  LOOP EXECUTE stmt; END LOOP;
END $$"""  # noqa: S608 - the one name in it is a constant role, quoted by _literal


def passwords_from(directory: Path) -> dict[str, str]:
    """Each role's password from `directory/<role>` (as Docker and Kubernetes mount secrets)."""
    return {role: (directory / role).read_text().strip() for role in ROLES}


def main(argv: list[str]) -> int:
    match argv:
        case ["names"]:
            print("\n".join(ROLES))  # noqa: T201 - the command's output
        case ["sql", directory, owner]:
            for statement in role_statements(passwords_from(Path(directory)), owner):
                print(statement + ";")  # noqa: T201 - the command's output
        case _:
            print(__doc__, file=sys.stderr)  # noqa: T201 - usage
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
