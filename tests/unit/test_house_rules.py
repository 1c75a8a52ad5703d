"""House rules the linters cannot hold by themselves: every exception to a lint rule says why."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".tools", ".local", ".git", "node_modules"}
NOQA = re.compile(r"#\s*noqa\b(?P<rest>[^\n]*)")
# A suppression comment must read "noqa: CODE[, CODE] - why": codes, then a dash and words.
WITH_REASON = re.compile(r"^:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*\s+-\s+\S")


def _python_files() -> list[Path]:
    return [p for p in REPO.rglob("*.py") if not SKIP.intersection(p.relative_to(REPO).parts)]


def test_every_noqa_names_its_rule_and_a_reason() -> None:
    bare = []
    for path in _python_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            found = NOQA.search(line)
            if found and not WITH_REASON.match(found["rest"]):
                bare.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert bare == [], "a noqa without '- reason':\n" + "\n".join(bare)


def test_every_per_file_ignore_and_ignored_rule_is_explained() -> None:
    text = (REPO / "pyproject.toml").read_text()
    lint = tomllib.loads(text)["tool"]["ruff"]["lint"]
    lines = text.splitlines()
    for rule in lint["ignore"]:
        line = next(x for x in lines if x.strip().startswith(f'"{rule}"'))
        assert "#" in line, f"ignored rule {rule} has no reason"
    for pattern in lint.get("per-file-ignores", {}):
        index = next(i for i, x in enumerate(lines) if x.startswith(f'"{pattern}"'))
        assert lines[index - 1].lstrip().startswith("#"), (
            f"per-file ignores of {pattern} have no comment above them"
        )
