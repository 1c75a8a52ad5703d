"""The README's topic map is the one `contracts/topics.py` declares (rendered, not retyped)."""

from __future__ import annotations

from salesflow.topic_map import markdown
from tests.support.infra import REPO


def test_the_readme_shows_the_declared_topic_map() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, "README topic map is stale: paste `salesflow topics list`"
