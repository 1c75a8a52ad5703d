"""The topic map as the README shows it, rendered from `contracts.topics` (the one declaration):
`salesflow topics list` prints it, and a contract test holds the README to it."""

from __future__ import annotations

from contracts.topics import ALL_TOPICS, TopicKind, TopicSpec

_KINDS = {TopicKind.INBOUND: "inbound", TopicKind.OUTBOUND: "outbound"}


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
