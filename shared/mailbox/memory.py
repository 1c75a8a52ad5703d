"""The mailbox in memory: the runtime's and the relay's unit-test double.

It keeps PostgreSQL's semantics that the runtime relies on: a transaction's effects appear at
commit and vanish on an exception; outbox ids only grow (an identity burns the ids of a rolled-back
insert, as a sequence does); one relay pass at a time holds the relay lock; an `alone` answer
judges the outbox as it was before the insert. A test makes the database fail by queueing errors
for named operations (`fail`), and a test stage writes its business rows to `connection.rows`,
which commit and roll back with the transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from shared.mailbox import OutboxRow, Posted
from shared.messages import Outgoing

OPERATIONS = ("begin", "claim", "post", "commit", "relay", "delete", "backlog", "purge", "ping")


@dataclass
class MemoryTransaction:
    mailbox: MemoryMailbox
    inbox: dict[UUID, float]
    outbox: dict[int, Outgoing]
    rows: defaultdict[str, list[Any]]

    @property
    def connection(self) -> MemoryTransaction:
        return self

    async def claim(self, event_ids: Sequence[UUID]) -> set[UUID]:
        self.mailbox.check("claim")
        fresh = {i for i in event_ids if i not in self.inbox}
        now = self.mailbox.clock()
        self.inbox.update(dict.fromkeys(fresh, now))
        return fresh

    async def post(self, records: Sequence[Outgoing], pending: Sequence[int]) -> Posted:
        self.mailbox.check("post")
        if not records:
            return Posted([], alone=False)
        others = any(row_id not in set(pending) for row_id in self.outbox)
        ids = []
        for record in records:
            row_id = self.mailbox.next_id()
            self.outbox[row_id] = record
            ids.append(row_id)
        return Posted(ids, alone=not others)


@dataclass
class MemoryRelayPass:
    mailbox: MemoryMailbox
    rows: list[OutboxRow]
    deleted: list[int] = field(default_factory=list)

    async def delete(self, ids: Sequence[int]) -> None:
        self.mailbox.check("delete")
        self.deleted.extend(ids)


class MemoryMailbox:
    def __init__(self) -> None:
        self.inbox: dict[UUID, float] = {}
        self.outbox: dict[int, Outgoing] = {}
        self.rows: defaultdict[str, list[Any]] = defaultdict(list)
        self.commits = 0
        self.calls: list[str] = []
        self._faults: deque[tuple[str, BaseException]] = deque()
        self._last_id = 0
        self._relay_lock = asyncio.Lock()
        self.clock = time.time

    def fail(self, operation: str, error: BaseException, times: int = 1) -> None:
        """Make the next `times` calls of `operation` raise `error`."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; known: {OPERATIONS}")
        self._faults.extend((operation, error) for _ in range(times))

    def check(self, operation: str) -> None:
        self.calls.append(operation)
        for index, (op, error) in enumerate(self._faults):
            if op == operation:
                del self._faults[index]
                raise error

    def next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        self.check("begin")
        tx = MemoryTransaction(self, dict(self.inbox), dict(self.outbox), copy.deepcopy(self.rows))
        yield tx
        self.check("commit")
        self.inbox, self.outbox = tx.inbox, tx.outbox
        self.rows = tx.rows
        self.commits += 1

    @contextlib.asynccontextmanager
    async def relay_pass(self, limit: int) -> AsyncIterator[MemoryRelayPass]:
        self.check("relay")
        if self._relay_lock.locked() or not self.outbox:
            yield MemoryRelayPass(self, [])
            return
        async with self._relay_lock:
            rows = [OutboxRow(i, self.outbox[i]) for i in sorted(self.outbox)[:limit]]
            relay_pass = MemoryRelayPass(self, rows)
            yield relay_pass
            for row_id in relay_pass.deleted:
                self.outbox.pop(row_id, None)

    async def delete(self, ids: Sequence[int]) -> None:
        self.check("delete")
        for row_id in ids:
            self.outbox.pop(row_id, None)

    async def backlog(self) -> tuple[int, float]:
        self.check("backlog")
        return len(self.outbox), 0.0

    async def purge_inbox(self, older_than_s: float) -> int:
        self.check("purge")
        cutoff = self.clock() - older_than_s
        old = [i for i, at in self.inbox.items() if at < cutoff]
        for event_id in old:
            del self.inbox[event_id]
        return len(old)

    async def ping(self) -> None:
        self.check("ping")
