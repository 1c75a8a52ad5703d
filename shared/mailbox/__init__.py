"""The runtime's inbox and outbox behind a port: all the batch runtime and the relay ask of the
database, so that both can be unit-tested against `MemoryMailbox` and run on `PostgresMailbox`.

A batch works inside one `MailboxTransaction`: claim its event ids in the inbox (the fresh ones
come back), let the service's stage write its rows through `connection`, post the outgoing records
to the outbox, commit on leaving the block (roll back on an exception). The relay reads the
oldest outbox rows under the relay lock in a `RelayPass` and deletes what the broker acked.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from shared.messages import Outgoing

ConnT_co = TypeVar("ConnT_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Posted:
    """Outbox ids of the posted records (same order), and whether the outbox held no other row
    than the given pending ones when they were inserted (`alone`)."""

    ids: list[int]
    alone: bool


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    record: Outgoing


class MailboxTransaction(Protocol[ConnT_co]):
    @property
    def connection(self) -> ConnT_co:
        """What the service's store writes through, inside the same transaction."""
        ...

    async def claim(self, event_ids: Sequence[UUID]) -> set[UUID]:
        """Record the ids in the inbox; returns those it had not seen (the fresh ones)."""
        ...

    async def post(self, records: Sequence[Outgoing], pending: Sequence[int]) -> Posted:
        """Insert the records into the outbox, in order."""
        ...


class RelayPass(Protocol):
    @property
    def rows(self) -> Sequence[OutboxRow]:
        """The oldest rows, in id order; empty when the outbox is empty or another relay of the
        service holds the relay lock."""
        ...

    async def delete(self, ids: Sequence[int]) -> None: ...


class Mailbox(Protocol[ConnT_co]):
    def transaction(self) -> AbstractAsyncContextManager[MailboxTransaction[ConnT_co]]: ...

    def relay_pass(self, limit: int) -> AbstractAsyncContextManager[RelayPass]:
        """The relay's unit of work: rows locked until the block ends (and the deletes commit)."""
        ...

    async def delete(self, ids: Sequence[int]) -> None:
        """Delete sent rows outside any pass (the hand-over path; one autocommit statement)."""
        ...

    async def backlog(self) -> tuple[int, float]:
        """Rows waiting in the outbox, and the age in seconds of the oldest."""
        ...

    async def purge_inbox(self, older_than_s: float) -> int:
        """Forget inbox ids older than the retention; returns how many."""
        ...

    async def ping(self) -> None:
        """Raise when the database cannot be reached."""
        ...
