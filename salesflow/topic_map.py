"""The topic map and the worker table as the README shows them, rendered from `contracts.topics`
and `contracts.stages` (the one declaration): `salesflow topics list` prints them, and a
contract test holds the README to them."""

from __future__ import annotations

from contracts.stages import STAGES
from contracts.topics import ALL_TOPICS, TopicKind, TopicSpec, consumed_by, published_by

_KINDS = {
    TopicKind.INBOUND: "inbound",
    TopicKind.OUTBOUND: "outbound",
    TopicKind.SCHEDULE: "schedule",
}


def markdown() -> str:
    """One row per topic; the dead-letter topics folded into one `<service>.dlq` row."""
    rows = [
        "| topic | kind | owner | read by | event types | key | partitions |",
        "|---|---|---|---|---|---|---|",
    ]
    rows += [_row(spec) for spec in ALL_TOPICS if spec.kind is not TopicKind.DEAD_LETTER]
    rows.append(
        "| `<service>.dlq` | dead letter | each service | operators "
        "| original record + `dlq.*` headers | original key | 6 |"
    )
    return "\n".join(rows)


def _row(spec: TopicSpec) -> str:
    types = ", ".join(f"`{t}`" for t in spec.event_types)
    readers = ", ".join(
        r for r in spec.readers if r != spec.owner or spec.kind is TopicKind.INBOUND
    )
    partitions = f"{spec.partitions}{', compacted' if spec.compacted else ''}"
    return (
        f"| `{spec.name}` | {_KINDS[spec.kind]} | {spec.owner} | {readers or '-'} | {types} "
        f"| `{spec.key_rule}` | {partitions} |"
    )


def workers_markdown() -> str:
    """One row per worker: what it owns, the topics it reads and writes (dead letters aside)."""
    rows = ["| worker | owns | consumes | publishes |", "|---|---|---|---|"]
    for stage in STAGES:
        reads = ", ".join(f"`{t.name}`" for t in consumed_by(stage.service))
        writes = ", ".join(
            f"`{t.name}`"
            for t in published_by(stage.service)
            if t.kind is not TopicKind.DEAD_LETTER
        )
        rows.append(f"| `{stage.service}` | {stage.owns} | {reads} | {writes} |")
    return "\n".join(rows)
