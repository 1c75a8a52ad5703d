"""Why a message could not be turned into an ``Envelope``.

Each error has a short machine ``reason`` that the dead-letter writer stores next to the raw
message, so that an operator can group and replay dead letters by cause without parsing prose.
None of them carries the offending input: messages hold personal data (contact names, emails)
that must not be copied into logs or dead-letter metadata.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import ValidationError

__all__ = [
    "ContractViolation",
    "InvalidMessage",
    "MessageTooLarge",
    "UndecodableMessage",
    "UnknownEventType",
]

# Enough for the first few errors; a dead-letter row must stay small even for a garbage message
# with hundreds of violations.
SUMMARY_LIMIT = 500


class InvalidMessage(Exception):  # noqa: N818 - names the message, like its subclasses
    """Base: the raw message can never be processed, retrying will not help."""

    reason: ClassVar[str] = "invalid_message"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UndecodableMessage(InvalidMessage):
    """Not UTF-8 JSON, or JSON whose top-level value is not an object."""

    reason: ClassVar[str] = "not_json"


class UnknownEventType(InvalidMessage):
    """The ``event_type`` is not in this release's registry."""

    reason: ClassVar[str] = "unknown_event_type"

    def __init__(self, event_type: str) -> None:
        # Capped: the value comes from the message and may be arbitrarily long garbage.
        super().__init__(f"unknown event type {event_type[:80]!r}")
        self.event_type = event_type


class ContractViolation(InvalidMessage):
    """Valid JSON that does not match the contract of its event type."""

    reason: ClassVar[str] = "schema_violation"

    def __init__(self, summary: str, *, event_type: str | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.event_type = event_type

    @classmethod
    def from_validation_error(
        cls, error: ValidationError, *, event_type: str | None = None
    ) -> ContractViolation:
        return cls(summarize(error), event_type=event_type)


class MessageTooLarge(InvalidMessage):
    """Bigger than the consumer accepts; refused before parsing so it costs no memory."""

    reason: ClassVar[str] = "oversized"

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the limit of {max_bytes} bytes")
        self.size = size
        self.max_bytes = max_bytes


def _without_input(item: Any) -> str:
    """The rule an error states, with the offending value cut out where a validator quoted it
    (a custom validator's message may say `unknown currency 'XYZ'`)."""
    message = str(item["msg"])
    value = item.get("input")
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        text = str(value)
        if len(text) >= 2 and text in message:
            message = message.replace(text, "<value>")
    return message


def summarize(error: ValidationError, limit: int = SUMMARY_LIMIT) -> str:
    """``"payload.contact.email: value is not a valid email; ..."``, capped at ``limit`` chars."""
    parts = [
        f"{'.'.join(str(p) for p in item['loc']) or '<root>'}: {_without_input(item)}"
        for item in error.errors(include_url=False, include_context=False)
    ]
    summary = "; ".join(parts)
    if len(summary) > limit:
        summary = summary[: limit - 3] + "..."
    return summary
