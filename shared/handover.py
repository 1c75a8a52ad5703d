"""What the batch runtime tells the relay after a commit: the outbox rows it just wrote.

The worker hands its committed rows to its relay (with their outbox ids) so they are published
from memory instead of read back (see shared.relay). It may do that only when no older row waits;
`Pending` is what was handed over and not yet deleted, as of one era of the relay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.messages import Outgoing


@dataclass(frozen=True, slots=True)
class Pending:
    """Outbox ids already handed to the relay and not yet deleted, as of one moment (`era`)."""

    era: int
    ids: list[int]


class OutboxSink(Protocol):
    """Where the runtime reports what a committed transaction put in the outbox (the relay)."""

    def pending(self) -> Pending:
        """Rows handed over earlier, which the relay sends before anything handed over later."""
        ...

    def committed(
        self, records: Sequence[Outgoing], ids: Sequence[int], *, alone: bool, seen: Pending
    ) -> None:
        """`records` (outbox rows `ids`, same order) are committed; `alone`: when they were
        inserted the outbox held no row but `seen`'s, so they may be published from memory."""
        ...
