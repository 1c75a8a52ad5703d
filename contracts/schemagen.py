"""Generate the committed JSON Schemas: one file per event type, the full envelope with its payload.

    python -m contracts.schemagen            # (re)write contracts/schemas/*.json
    python -m contracts.schemagen --check    # exit 1 if a committed file differs or is missing
    python -m contracts.schemagen --check --against OLD_DIR   # + breaking changes vs OLD_DIR

The committed files are the compatibility baseline. ``--check`` only says "regenerate and commit";
whether the change is allowed is ``--against``'s question, which CI should ask with the schemas of
the merge base, because after a commit the working tree and the baseline agree by construction.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from contracts.base import DATE_PATTERN, DATETIME_PATTERN, UUID_PATTERN
from contracts.compat import breaking_changes
from contracts.envelope import envelope_type
from contracts.registry import EVENT_TYPES

__all__ = [
    "SCHEMA_DIR",
    "check",
    "envelope_schema",
    "example_payload",
    "generate",
    "main",
    "render",
    "write",
]

SCHEMA_DIR: Final = Path(__file__).resolve().parent / "schemas"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, plus patterns: what decoding refuses of RFC 3339 "date" and
    "date-time" (year 0, a leap second, out of range in UTC), and the shape of a "uuid" (a format
    is only an annotation to most validators, and ours accept nothing but a UUID)."""

    def date_schema(self, schema: core_schema.DateSchema) -> JsonSchemaValue:
        return {**super().date_schema(schema), "pattern": DATE_PATTERN}

    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> JsonSchemaValue:
        return {**super().datetime_schema(schema), "pattern": DATETIME_PATTERN}

    def uuid_schema(self, schema: core_schema.UuidSchema) -> JsonSchemaValue:
        return {**super().uuid_schema(schema), "pattern": UUID_PATTERN}

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        # The models forbid unknown keys so that our own producers cannot invent one; readers
        # must still accept them (a producer a release ahead), so the published schema leaves
        # additional properties open, as it always has.
        json_schema = super().model_schema(schema)
        if json_schema.get("additionalProperties") is False:
            del json_schema["additionalProperties"]
        return json_schema


def envelope_schema(event_type: str) -> dict[str, Any]:
    """JSON Schema (validation mode) of the envelope carrying ``event_type``."""
    schema = envelope_type(event_type).model_json_schema(
        mode="validation", schema_generator=_Generator
    )
    # Several event types can share a payload class (CommandRejected), so the generic title and the
    # free-form event_type would make their files identical; pin both to the event type.
    schema["title"] = event_type
    event_type_schema = schema["properties"]["event_type"]
    event_type_schema["const"] = event_type
    event_type_schema["examples"] = [event_type]
    # The generic payload field has no example of its own; assembled from the payload's field
    # examples, it shows a complete message (and a test proves the assembly validates).
    schema["properties"]["payload"]["examples"] = [example_payload(EVENT_TYPES[event_type])]
    return {"$schema": _DIALECT, **schema}


def example_payload(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON example of ``model`` made of the first example of each field."""
    return {
        name: field.examples[0]
        for name, field in model.model_fields.items()
        if field.examples  # every contract field has some; a test enforces it
    }


def render(schema: Mapping[str, Any]) -> str:
    """Stable text form: sorted keys so that diffs show real changes only."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """File name -> content for every registered event type."""
    return {f"{event_type}.json": render(envelope_schema(event_type)) for event_type in EVENT_TYPES}


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write changed or missing files; returns their names. Never deletes: an event type that
    disappeared is a breaking change for ``check`` to report, not something to tidy up."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in generate().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            written.append(name)
    return written


def check(directory: Path = SCHEMA_DIR, against: Path | None = None) -> list[str]:
    """Problems: files missing, stale or orphaned in ``directory``, and, with ``against``,
    breaking changes of the current schemas relative to the files there."""
    problems = []
    generated = generate()
    for name, content in generated.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: not committed (run python -m contracts.schemagen)")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{name}: differs from the generated schema (regenerate and commit)")
    problems.extend(
        f"{path.name}: event type no longer registered (breaking)"
        for path in sorted(directory.glob("*.json"))
        if path.name not in generated
    )
    if against is not None:
        for path in sorted(against.glob("*.json")):
            problems.extend(_breaking_against(path, generated))
    return problems


def _breaking_against(baseline: Path, generated: Mapping[str, str]) -> list[str]:
    if baseline.name not in generated:
        return [f"{baseline.name}: event type removed (breaking)"]
    old = json.loads(baseline.read_text(encoding="utf-8"))
    new = json.loads(generated[baseline.name])
    return [f"{baseline.name}: {change}" for change in breaking_changes(old, new)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.schemagen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory")
    parser.add_argument("--against", type=Path, help="baseline directory for breaking changes")
    args = parser.parse_args(argv)
    if args.check or args.against is not None:
        problems = check(args.dir, args.against)
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        return 1 if problems else 0
    for name in write(args.dir):
        sys.stdout.write(f"wrote {args.dir / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
