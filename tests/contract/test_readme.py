"""The README's worker table and topic map are the ones `contracts/` declares (rendered, not
retyped), and its order.confirmed example is a message the contracts accept."""

from __future__ import annotations

from contracts.envelope import decode
from salesflow.topic_map import markdown, retention_markdown, workers_markdown
from tests.support.infra import REPO


def test_the_readme_shows_the_declared_topic_map() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, "README topic map is stale: paste `salesflow topics list`"


def test_the_readme_shows_the_declared_retention() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert retention_markdown() in readme, "README retention is stale: `salesflow topics list`"


def test_the_readme_shows_the_declared_workers() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert workers_markdown() in readme, "README worker table is stale: `salesflow topics list`"


def test_the_readmes_order_confirmed_example_is_a_valid_message() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    after = readme.split("**What `order.confirmed` carries**", 1)[1]
    block = after.split("```json\n", 1)[1].split("```", 1)[0]
    envelope = decode(block.encode())
    assert envelope.event_type == "order.confirmed"
    details = envelope.payload.customer_details
    assert details is not None and details.ship_to is not None and details.tax_id
