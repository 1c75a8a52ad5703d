"""Answers to commands that a service understood but refused (a business rule said no).

A command that breaks the contract goes to the dead-letter topic; a command that is well-formed but
not allowed (disqualify a lead that has an opportunity, revise a won quote) gets a
``CommandRejected`` on the stage's ``*.rejected`` topic, so the upstream system that sent it can
tell its user. One payload class serves the four stages: the answer has the same shape everywhere,
only the topic (and so the event type) tells which stage refused.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from contracts.base import EntityId, EventTypeName, ExternalId, LongText, Payload

__all__ = ["REJECTION_EVENT_TYPES", "CommandRejected", "ReasonCode"]

REJECTION_EVENT_TYPES: tuple[str, ...] = (
    "lead.rejected",
    "quote.rejected",
    "order.rejected",
    "invoice.rejected",
)

ReasonCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]


class CommandRejected(Payload):
    """A command was refused by a business rule; nothing changed."""

    EVENT_TYPES: ClassVar[tuple[str, ...]] = REJECTION_EVENT_TYPES

    command_event_id: EntityId = Field(
        description="event_id of the refused command (the envelope's causation_id too).",
        examples=["1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"],
    )
    command_type: EventTypeName = Field(
        description="event_type of the refused command.", examples=["lead.disqualify"]
    )
    reason_code: ReasonCode = Field(
        description="Machine reason, snake_case, stable per rule.",
        examples=["lead_has_opportunity"],
    )
    detail: LongText = Field(
        description="Human-readable explanation.",
        examples=["lead L-2024-000123 already has an opportunity"],
    )
    subject_id: ExternalId | None = Field(
        default=None,
        description="Id of the thing the command was about (lead, quote, order or invoice id).",
        examples=["L-2024-000123"],
    )
