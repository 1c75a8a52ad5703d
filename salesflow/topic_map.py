"""The topic map and the worker table as the README shows them, rendered from `contracts.topics`
and `contracts.stages` (the one declaration): `salesflow topics list` prints them, and a
contract test holds the README to them."""

from __future__ import annotations

from contracts.stages import STAGES
from contracts.topics import (
    ALL_TOPICS,
    REPLAY_WINDOW_MS,
    SEGMENT_MS,
    TopicKind,
    TopicSpec,
    consumed_by,
    published_by,
)
from shared.settings import RuntimeSettings

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


def retention_markdown() -> str:
    """Retention by kind of topic, as `contracts.topics` declares it on every topic."""
    rows = ["| topics | retention | cleanup |", "|---|---|---|"]
    groups: dict[tuple[str, str], list[str]] = {}
    for spec in ALL_TOPICS:
        if spec.compacted:
            what = ("kept for ever (the latest record per key)", "compact")
        else:
            what = (
                f"{_days(spec.retention_ms)} (segments roll every {_days(SEGMENT_MS)})",
                "delete",
            )
        name = "`<service>.dlq`" if spec.kind is TopicKind.DEAD_LETTER else f"`{spec.name}`"
        if name not in groups.setdefault(what, []):
            groups[what].append(name)
    for (retention, cleanup), names in groups.items():
        shown = "events and commands (every other topic)" if len(names) > 10 else ", ".join(names)
        rows.append(f"| {shown} | {retention} | {cleanup} |")
    hours = RuntimeSettings.model_fields["inbox_retention_hours"].default
    rows.append(
        f"| each worker's inbox (event ids) | {_days(int(hours * 3_600_000))} "
        f"(`SALESFLOW_INBOX_RETENTION_HOURS`, default {hours:g}; at least "
        f"{_days(REPLAY_WINDOW_MS)}: a record's retention plus a segment) | forgotten after |"
    )
    return "\n".join(rows)


def _days(ms: int) -> str:
    days = ms / 86_400_000
    return f"{days:g} day{'s' if days != 1 else ''}"
