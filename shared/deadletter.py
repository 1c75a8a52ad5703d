"""Dead-letter entries: the original bytes and headers plus why and where they failed.

A dead-lettered record goes through the outbox like any other outgoing record, in the same
transaction as the rest of its batch, so parking it and committing the offset past it can
never be torn apart by a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRecord

from shared.messages import Outgoing

MAX_ERROR_TEXT = 2000


@dataclass(frozen=True, slots=True)
class DeadLetterReason:
    """Why a record is parked: a stable machine code plus a human message."""

    code: str
    error_class: str
    message: str

    @classmethod
    def of(cls, code: str, error: BaseException) -> DeadLetterReason:
        return cls(code=code, error_class=type(error).__name__, message=str(error))


def dead_letter(
    record: ConsumerRecord[bytes, bytes],
    reason: DeadLetterReason,
    *,
    topic: str,
    service: str,
    seen_at: datetime,
) -> Outgoing:
    """The dead-letter record for `record`: same key, value and headers, plus `dlq.*` headers."""
    info: list[tuple[str, bytes | None]] = [
        ("dlq.reason", reason.code.encode()),
        ("dlq.error_class", reason.error_class.encode()),
        ("dlq.error", reason.message[:MAX_ERROR_TEXT].encode("utf-8", "replace")),
        ("dlq.service", service.encode()),
        ("dlq.source_topic", record.topic.encode()),
        ("dlq.source_partition", str(record.partition).encode()),
        ("dlq.source_offset", str(record.offset).encode()),
        ("dlq.first_seen", seen_at.isoformat().encode()),
    ]
    original = [(_sendable(k), v) for k, v in record.headers if not k.startswith("dlq.")]
    return Outgoing(
        topic=topic,
        key=record.key,
        payload=record.value,
        headers=[*original, *info],
        event_type="dead_letter",
    )


def _sendable(name: str) -> str:
    """A header name the producer can send. A name that was not UTF-8 on the wire arrives
    surrogate-escaped; Kafka header names are strings, so it is kept as its bytes written out
    (`\\xff`), and the record's value and key stay byte for byte."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
    return name
