"""The contract gate against the last release: green today, and red on a breaking change even
when the schemas were regenerated (committed schema and code agree, the release does not)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.registry import EVENT_TYPES
from contracts.releases import (
    RELEASED_DIR,
    cut,
    gate,
    latest_release,
    main,
    package_version,
)
from contracts.schemagen import SCHEMA_DIR

RELEASE = latest_release()


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


def test_the_last_release_is_a_committed_snapshot_no_newer_than_the_package() -> None:
    assert [p.name for p in RELEASED_DIR.iterdir() if p.is_dir()] == [RELEASE.name]
    assert _version(RELEASE.name) <= _version(package_version())
    assert len(list(RELEASE.glob("*.json"))) >= 69


def test_todays_schemas_keep_every_promise_of_the_last_release() -> None:
    assert gate(RELEASE) == []
    assert main(["--check"]) == 0


def test_every_released_event_type_is_still_registered() -> None:
    assert {p.stem for p in RELEASE.glob("*.json")} <= set(EVENT_TYPES)


# --- the gate fails -------------------------------------------------------------------------


def _payload_definition(schema: dict[str, Any]) -> dict[str, Any]:
    ref: str = schema["properties"]["payload"]["$ref"]
    definition: dict[str, Any] = schema["$defs"][ref.removeprefix("#/$defs/")]
    return definition


def _required_field_added(schema: dict[str, Any]) -> None:
    payload = _payload_definition(schema)
    payload["properties"]["priority"] = {"type": "integer", "description": "new"}
    payload["required"] = [*payload.get("required", []), "priority"]


def _field_removed(schema: dict[str, Any]) -> None:
    del _payload_definition(schema)["properties"]["notes"]


def _type_narrowed(schema: dict[str, Any]) -> None:
    # `notes` was a string or null; it becomes a string only.
    notes = _payload_definition(schema)["properties"]["notes"]
    notes.pop("anyOf")
    notes.pop("default", None)
    notes["type"] = "string"


@pytest.fixture
def regenerated(tmp_path: Path) -> Path:
    """A copy of today's committed schemas: what `make schemas` leaves after a code change."""
    current = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, current)
    return current


def _edit(directory: Path, event_type: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = directory / f"{event_type}.json"
    schema = json.loads(path.read_text("utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", "utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_required_field_added, "payload.priority: new required property"),
        (_field_removed, "payload.notes: property removed"),
        (_type_narrowed, "payload.notes: type narrowed"),
    ],
    ids=["required field added", "field removed", "type narrowed"],
)
def test_the_gate_reports_a_breaking_change_in_regenerated_schemas(
    regenerated: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert gate(RELEASE, regenerated) == []

    _edit(regenerated, "lead.captured", change)
    problems = gate(RELEASE, regenerated)

    assert len(problems) == 1
    assert problems[0].startswith(f"lead.captured.json: {expected}")
    assert f"(breaking since {RELEASE.name})" in problems[0]
    assert main(["--check", "--current", str(regenerated)]) == 1


def test_the_gate_reports_a_removed_event_type(regenerated: Path) -> None:
    (regenerated / "order.cancel.json").unlink()

    assert gate(RELEASE, regenerated) == [
        f"order.cancel.json: event type removed since {RELEASE.name} (breaking)"
    ]


def test_an_empty_or_missing_release_fails_the_gate(tmp_path: Path) -> None:
    (tmp_path / "1.0.0").mkdir()

    assert gate(tmp_path / "1.0.0") != []
    assert main(["--check", "--released", str(tmp_path / "none")]) == 1


# --- cutting a release ----------------------------------------------------------------------


def test_a_cut_moves_the_snapshot_to_the_new_version(tmp_path: Path, regenerated: Path) -> None:
    shutil.copytree(RELEASE, tmp_path / "released" / "0.1.0")
    _edit(
        regenerated,
        "lead.captured",
        lambda s: _payload_definition(s)["properties"].update(
            {"channel": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}
        ),
    )

    target = cut("0.2.0", regenerated, tmp_path / "released")

    assert [p.name for p in (tmp_path / "released").iterdir()] == ["0.2.0"]
    assert latest_release(tmp_path / "released") == target
    assert (target / "lead.captured.json").read_text("utf-8") == (
        regenerated / "lead.captured.json"
    ).read_text("utf-8")


def test_a_cut_refuses_a_breaking_change_and_an_old_version(
    tmp_path: Path, regenerated: Path
) -> None:
    root = tmp_path / "released"
    shutil.copytree(RELEASE, root / "0.2.0")

    with pytest.raises(ValueError, match="not newer"):
        cut("0.2.0", regenerated, root)
    with pytest.raises(ValueError, match="not newer"):
        cut("0.1.9", regenerated, root)
    _edit(regenerated, "lead.captured", _field_removed)
    with pytest.raises(ValueError, match="property removed"):
        cut("0.3.0", regenerated, root)
    assert [p.name for p in root.iterdir()] == ["0.2.0"]


def test_versions_compare_as_numbers(tmp_path: Path) -> None:
    for name in ("0.9.0", "0.10.0", "0.2.0"):
        (tmp_path / name).mkdir()

    assert latest_release(tmp_path).name == "0.10.0"
