"""The per-batch skeleton every service runs, written once: load, dispatch per message, save.

A service supplies three things (rule 2 of the architecture guide):
- its handler table: one function per consumed event type, `(book, msg, policy, now) -> events`;
- a pure `touches_of(batch, policy, now)` naming the keys the batch needs, so its store loads
  them in a few queries;
- its store: `load(conn, touches) -> book` and `save(conn, book)`. The book is the in-memory unit
  of work the handlers decide against (and the unit tests' fake).

`HandlerStage` is what `shared.consumer.BatchRuntime` calls inside the batch transaction, with
only the messages the inbox has not seen, in the order Kafka delivered them.
`Replies` is how handlers answer: an event caused by the message, or the service's rejection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeAlias, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import Payload
from contracts.rejections import CommandRejected
from contracts.topics import rejection_event_type
from shared.messages import Incoming, Outgoing, caused_by

BookT = TypeVar("BookT")
TouchesT = TypeVar("TouchesT")
PolicyT = TypeVar("PolicyT")
BookT_contra = TypeVar("BookT_contra", contravariant=True)
TouchesT_contra = TypeVar("TouchesT_contra", contravariant=True)
BookT_co = TypeVar("BookT_co", covariant=True)

Handler: TypeAlias = Callable[[BookT, Incoming[Any], PolicyT, datetime], list[Outgoing]]
TouchesOf: TypeAlias = Callable[[Sequence[Incoming[Any]], PolicyT, datetime], TouchesT]


class Store(Protocol[BookT, TouchesT_contra]):
    """A service's PostgreSQL adapter, as the skeleton uses it."""

    async def load(self, conn: AsyncConnection, touches: TouchesT_contra) -> BookT: ...

    async def save(self, conn: AsyncConnection, book: BookT) -> None: ...


@dataclass(frozen=True)
class HandlerStage(Generic[BookT, TouchesT, PolicyT]):
    """A service's share of every batch (implements `shared.consumer.Stage`)."""

    handlers: Mapping[str, Handler[BookT, PolicyT]]
    touches_of: TouchesOf[PolicyT, TouchesT]
    store: Store[BookT, TouchesT]
    policy: PolicyT

    async def apply(
        self, conn: AsyncConnection, batch: Sequence[Incoming[Any]], now: datetime
    ) -> list[Outgoing]:
        book = await self.store.load(conn, self.touches_of(batch, self.policy, now))
        outgoing: list[Outgoing] = []
        for msg in batch:
            # Decisions run in Kafka's order, against the book, so a later message of the batch
            # sees what an earlier one decided (a qualify after its capture, two payments).
            outgoing.extend(self.handlers[msg.event_type](book, msg, self.policy, now))
        await self.store.save(conn, book)
        return outgoing

    def consumed_event_types(self) -> frozenset[str]:
        return frozenset(self.handlers)


class Refusal(Protocol):
    """What a domain says when a rule refuses a command (each domain has its own dataclass of
    this shape; the domain stays free of this module)."""

    @property
    def command(self) -> str | None: ...

    @property
    def reason_code(self) -> str: ...

    @property
    def detail(self) -> str: ...

    @property
    def subject_id(self) -> str | None: ...

    @property
    def command_event_id(self) -> UUID | None: ...


@dataclass(frozen=True, slots=True)
class Replies:
    """How one service's handlers answer a message: its events, and its rejections."""

    producer: str
    rejected: str

    @classmethod
    def of(cls, service: str) -> Replies:
        """The replies of `service`: produced under its name, refusals on its rejection type."""
        return cls(producer=service, rejected=rejection_event_type(service))

    def event(
        self, cause: Incoming[Any], payload: Payload, now: datetime, *, deal_id: str | None = None
    ) -> Outgoing:
        """An event `cause` led to: causation set, stamped `now`, on the cause's deal unless
        it is about another deal's document (a payment spread over invoices of several
        deals): then on that deal, so it lands on that deal's partition, in its order."""
        return caused_by(cause, payload, producer=self.producer, now=now, deal_id=deal_id)

    def refusal(self, cause: Incoming[Any], refusal: Refusal, now: datetime) -> Outgoing:
        """The rejection event answering `cause`. A refusal may name another command than the
        message being handled (an ERP invoice held earlier and refused when its order came)."""
        payload = CommandRejected(
            command_event_id=refusal.command_event_id or cause.event_id,
            command_type=refusal.command or cause.event_type,
            reason_code=refusal.reason_code,
            detail=refusal.detail,
            subject_id=refusal.subject_id,
        )
        return caused_by(cause, payload, producer=self.producer, now=now, event_type=self.rejected)
