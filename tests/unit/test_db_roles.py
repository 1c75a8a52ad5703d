"""The database roles' statements: each service owns its own schema and is granted nothing on
another; the reporting role may only read; passwords come from files and are quoted."""

from __future__ import annotations

from pathlib import Path

from contracts.access import GATEWAY as PRINCIPAL
from contracts.stages import SERVICES
from gateway.store import SCHEMA
from shared.db_roles import GATEWAY, OWNERS, READER, ROLES, passwords_from, role_statements


def _statements() -> list[str]:
    return role_statements({role: f"pw-{role}" for role in ROLES}, "salesflow")


def test_each_service_owns_its_schema_and_no_other() -> None:
    sql = _statements()
    for service in SERVICES:
        assert f'ALTER SCHEMA "{service}" OWNER TO "{service}"' in sql
        others = [s for s in SERVICES if s != service]
        for statement in sql:
            if statement.startswith("GRANT") and f'TO "{service}"' in statement:
                assert not any(f'"{other}"' in statement for other in others), statement


def test_the_reader_reads_every_service_schema_and_writes_none() -> None:
    sql = _statements()
    granted = [s for s in sql if f'TO "{READER}"' in s]
    assert all(any(right in s for right in ("SELECT", "USAGE", "CONNECT")) for s in granted)
    assert not any(w in s for s in granted for w in ("INSERT", "UPDATE", "DELETE"))
    for service in SERVICES:
        assert f'GRANT SELECT ON ALL TABLES IN SCHEMA "{service}" TO "{READER}"' in sql


def test_passwords_are_read_from_files_and_quoted(tmp_path: Path) -> None:
    for role in ROLES:
        (tmp_path / role).write_text(f"it's-{role}\n")
    sql = role_statements(passwords_from(tmp_path), "salesflow")
    assert "PASSWORD 'it''s-lead_svc'" in "\n".join(sql)


def test_the_gateway_is_one_name_for_its_schema_role_and_principal() -> None:
    assert SCHEMA == GATEWAY == PRINCIPAL
    assert GATEWAY in OWNERS
    assert GATEWAY in ROLES
