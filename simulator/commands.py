"""The people's commands as the lifecycle driver publishes them, and which deal awaits an
answer to each (split from `simulator.customers`, which decides what to send)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from contracts.base import Payload
from contracts.envelope import Envelope, make_envelope
from contracts.topics import topic_for_event

if TYPE_CHECKING:
    from simulator.customers import Deal

PRODUCER = "lifecycle-driver"
Send = Callable[[str, Envelope[Any]], Awaitable[None]]
Command = tuple[Payload, str]  # a command and the label the deal awaits its answer under


def envelope(payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
    return make_envelope(
        payload,
        event_type=event_type,
        deal_id=deal_id,
        producer=PRODUCER,
        occurred_at=datetime.now(UTC),
    )


class Commands:
    """Publishes the people's commands; remembers which deal awaits an answer to each.

    An answer is an event the command caused (its causation id), a refusal naming it, or, for an
    ERP invoice (held by invoice_svc until its order arrives, then posted as caused by the
    order), the invoice.posted with its external id."""

    def __init__(self, send: Send, rival: Send | None = None) -> None:
        """`rival`: a second producer client's send, for the commands that race (`race`)."""
        self._send = send
        self._rival = rival or send
        self.awaiting: dict[UUID, Deal] = {}
        self.erp_invoices: dict[str, UUID] = {}
        self.ours: set[str] = set()  # credit application ids the driver sent
        self.may_lose: set[UUID] = set()  # racing commands a refusal answers as expected
        self._twins: dict[UUID, UUID] = {}  # a command sent twice: either copy's answer is both's

    async def __call__(
        self, deal: Deal, payload: Payload, label: str, *, key: str | None = None
    ) -> UUID:
        """Publish `payload` for `deal` (keyed by `key`, else the deal id); its event id."""
        event_type = payload.EVENT_TYPE
        env = envelope(payload, event_type, key or deal.lead_id)
        self.awaiting[env.event_id] = deal
        deal.open[env.event_id] = label
        await self._send(topic_for_event(event_type).name, env)
        return env.event_id

    async def race(
        self,
        deal: Deal,
        first: Command,
        second: Command,
        *,
        one_wins: bool = False,
        twins: bool = False,
    ) -> tuple[UUID, UUID]:
        """Publish two commands for `deal` at the same moment from two producer clients, so
        the broker decides their order (on one partition: which lands first). Each is answered
        by its effect, except that when `one_wins` the loser is answered by a refusal (then
        expected: `lost`), and of `twins` (the same command twice) the copy applied second
        changes nothing and is never answered: the other's answer is both's."""
        envelopes = []
        for payload, label in (first, second):
            env = envelope(payload, payload.EVENT_TYPE, deal.lead_id)
            self.awaiting[env.event_id] = deal
            deal.open[env.event_id] = label
            if one_wins:
                self.may_lose.add(env.event_id)
            envelopes.append(env)
        a, b = envelopes
        if twins:
            self._twins[a.event_id], self._twins[b.event_id] = b.event_id, a.event_id
        await asyncio.gather(
            self._send(topic_for_event(a.event_type).name, a),
            self._rival(topic_for_event(b.event_type).name, b),
        )
        return a.event_id, b.event_id

    def lost(self, command_id: UUID) -> bool:
        """Whether a refusal of this command is a race it was allowed to lose."""
        return command_id in self.may_lose

    def answered(self, command_id: UUID | None) -> Deal | None:
        deal = self.awaiting.pop(command_id, None) if command_id else None
        if deal is not None:
            deal.open.pop(command_id, None)  # type: ignore[arg-type]
            twin = self._twins.pop(command_id, None)  # type: ignore[arg-type]
            if twin is not None:
                self._twins.pop(twin, None)
                self.awaiting.pop(twin, None)
                deal.open.pop(twin, None)
        return deal
