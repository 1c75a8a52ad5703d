"""The contracts of the previous release, and the gate that holds the current ones to them.

    python -m contracts.releases --check   # the gate (make lint): breaking since the release?
    python -m contracts.releases --cut     # the schemas become this version (make release-schemas)

"The previous release" is a directory committed beside the schemas:
``contracts/released/<version>/`` holds the JSON Schemas (``contracts/schemas/*.json``) exactly
as that version shipped them; the newest version there is the baseline. It lives in the tree
rather than in git metadata so that any checkout answers the same: CI's fresh clone, a shallow
clone, a clone without tags, a source archive. (The merge base of main is main itself once
merged, and tags need not travel with a clone.)

The gate compares every event type of the release with the committed schema of today: each one
must still exist, and ``contracts.compat.breaking_changes`` must find nothing. It reads files, not
the code, so regenerating the schemas after a breaking change (`make schemas`) does not get past
it; `schemagen --check` holds the committed files to the code.

Cutting a release (`make release-schemas` after the version in pyproject.toml was raised) runs the
gate, then replaces the snapshot with today's schemas under the new version; git keeps the old one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from contracts.compat import breaking_changes
from contracts.schemagen import SCHEMA_DIR

__all__ = ["RELEASED_DIR", "cut", "gate", "latest_release", "main", "package_version"]

RELEASED_DIR: Final = Path(__file__).resolve().parent / "released"
_PYPROJECT: Final = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        raise ValueError(f"{name!r} is not a release version (digits and dots)") from None


def latest_release(root: Path = RELEASED_DIR) -> Path:
    """The snapshot of the newest release under ``root``; ``FileNotFoundError`` if none."""
    releases = sorted((p for p in root.glob("*") if p.is_dir()), key=lambda p: _version_key(p.name))
    if not releases:
        raise FileNotFoundError(f"no released schemas under {root} (make release-schemas)")
    return releases[-1]


def package_version(pyproject: Path = _PYPROJECT) -> str:
    """The version pyproject.toml declares: the one a cut names its snapshot after."""
    with pyproject.open("rb") as file:
        declared: str = tomllib.load(file)["project"]["version"]
    return declared


def _load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def gate(released: Path, current: Path = SCHEMA_DIR) -> list[str]:
    """Breaking changes from the schemas in ``released`` to those in ``current``; empty if none.

    An event type of the release missing from ``current`` is one: its consumers lose it."""
    baseline = sorted(released.glob("*.json"))
    if not baseline:
        return [f"{released}: no schemas in the release snapshot"]
    problems = []
    for old in baseline:
        new = current / old.name
        if not new.exists():
            problems.append(f"{old.name}: event type removed since {released.name} (breaking)")
            continue
        problems.extend(
            f"{old.name}: {change} (breaking since {released.name})"
            for change in breaking_changes(_load(old), _load(new))
        )
    return problems


def cut(version: str, current: Path = SCHEMA_DIR, root: Path = RELEASED_DIR) -> Path:
    """Make ``current``'s schemas the release ``version``; ``ValueError`` (nothing written) if
    they break the previous release or the version is not newer than its."""
    _version_key(version)
    try:
        previous: Path | None = latest_release(root)
    except FileNotFoundError:
        previous = None
    if previous is not None:
        if _version_key(version) <= _version_key(previous.name):
            raise ValueError(
                f"release {version} is not newer than {previous.name}: raise the version in "
                "pyproject.toml first"
            )
        problems = gate(previous, current)
        if problems:
            raise ValueError("breaking changes since the last release:\n" + "\n".join(problems))
    target = root / version
    staging = root / f".{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for schema in sorted(current.glob("*.json")):
        shutil.copyfile(schema, staging / schema.name)
    staging.rename(target)
    if previous is not None:
        shutil.rmtree(previous)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.releases", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="the gate against the last release")
    action.add_argument("--cut", action="store_true", help="snapshot the schemas as a release")
    parser.add_argument("--version", help="with --cut: the release (default: pyproject's)")
    parser.add_argument("--current", type=Path, default=SCHEMA_DIR, help="schemas of today")
    parser.add_argument("--released", type=Path, default=RELEASED_DIR, help="release snapshots")
    args = parser.parse_args(argv)
    if args.cut:
        try:
            target = cut(args.version or package_version(), args.current, args.released)
        except ValueError as error:
            sys.stderr.write(f"{error}\n")
            return 1
        sys.stdout.write(f"released schemas: {target}\n")
        return 0
    try:
        released = latest_release(args.released)
    except FileNotFoundError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    problems = gate(released, args.current)
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    if not problems:
        count = len(list(released.glob("*.json")))
        sys.stdout.write(f"contracts compatible with release {released.name} ({count} types)\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
