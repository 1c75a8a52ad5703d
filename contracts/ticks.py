"""Time as a message: the tick every time rule acts on.

Nothing in salesflow reads the wall clock to decide that time passed. A tick says "it is now
`at`"; the stages that have time rules (quote validity, dunning, stale hand-offs) consume it
through the same effectively-once runtime as every other message and decide with `now = at`.

Ticks are produced on a schedule by `salesflow tick` and by the workers themselves (each one a
ticker, so a deployment needs no extra process), and a test moves time by publishing one. Every
producer derives the same event id from the period the tick stands for (`tick_event_id`), so the
inbox of each consumer keeps one tick per period however many producers sent it. A tick carries
no deal: all of them share one key (`CLOCK_DEAL_ID`), hence one partition, in order.

Time rules are written "as of `at`", so a tick is safe to repeat and safe to arrive late or out of
order: an older tick finds nothing more to do than the newer one already did.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final
from uuid import UUID, uuid5

from pydantic import Field

from contracts.base import AwareUtc, Payload

__all__ = [
    "CLOCK_DEAL_ID",
    "TICK_PRODUCER",
    "TimeTicked",
    "tick_event_id",
    "tick_period_start",
]

# The envelope's deal id (and so the Kafka key) of every tick.
CLOCK_DEAL_ID: Final = "clock"
TICK_PRODUCER: Final = "scheduler"
_TICK_NAMESPACE: Final = UUID("8e2f1c4a-7b3d-4a5e-9f60-2c1d3b4a5e6f")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class TimeTicked(Payload):
    """Time reached `at`: every time rule due at or before it may act now."""

    EVENT_TYPE: ClassVar[str] = "clock.ticked"

    at: AwareUtc = Field(
        description="The time the tick stands for (the start of its period), UTC. Consumers "
        "decide with it as `now`.",
        examples=["2025-03-01T06:00:00Z"],
    )
    period_seconds: int = Field(
        ge=1,
        description="Length of the period the producer ticks by (informational: one tick per "
        "period start, whoever sends it).",
        examples=[3600],
    )


def tick_period_start(now: datetime, period_seconds: int) -> datetime:
    """The start of the period `now` falls in, counted from the Unix epoch in UTC."""
    if period_seconds < 1:
        raise ValueError("a tick period is at least one second")
    elapsed = int((now.astimezone(UTC) - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % period_seconds)


def tick_event_id(at: datetime) -> UUID:
    """The event id of the tick for `at`: the same from every producer, so inboxes dedupe."""
    return uuid5(_TICK_NAMESPACE, f"clock.ticked:{at.astimezone(UTC).isoformat()}")
