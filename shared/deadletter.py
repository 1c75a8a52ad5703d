"""Dead-letter entries: the original bytes and headers plus why and where they failed.

A dead-lettered record goes through the outbox like any other outgoing record, in the same
transaction as the rest of its batch, so parking it and committing the offset past it can
never be torn apart by a crash.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRecord

from shared.failures import root_cause
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

    @classmethod
    def processing_failed(cls, error: BaseException) -> DeadLetterReason:
        """A message whose handling raised: named by what failed where, never by its text.

        A driver's message quotes the statement and its parameters (ids, names, emails) and a
        constraint's detail quotes the row (`Key (email)=(...)`), so only names are kept: the
        SQLSTATE and the table, column and constraint for a database error, the raising
        function and line for any other."""
        cause = root_cause(error)
        return cls("processing_failed", type(cause).__name__, failure_text(cause))


def failure_text(cause: BaseException) -> str:
    """`sqlstate 23505 unique_violation; table lead_svc.contacts; constraint ux_...` or
    `raised in services/lead_svc/handlers/events.py:30 (on_lead_captured)`: names, never values."""
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        parts = [f"sqlstate {sqlstate}"]
        condition = re.sub(r"(?<!^)(?=[A-Z])", "_", type(cause).__name__).lower()
        parts[0] += f" {condition.removesuffix('_error')}"
        schema, table = getattr(cause, "schema_name", None), getattr(cause, "table_name", None)
        if table:
            parts.append(f"table {schema + '.' if schema else ''}{table}")
        for name in ("column_name", "constraint_name", "data_type_name"):
            value = getattr(cause, name, None)
            if value:
                parts.append(f"{name.removesuffix('_name').replace('_', ' ')} {value}")
        return "; ".join(parts)
    frames = traceback.extract_tb(cause.__traceback__)
    if not frames:
        return f"{type(cause).__name__} raised"
    last = frames[-1]
    return (
        f"{type(cause).__name__} raised in {_relative(last.filename)}:{last.lineno} ({last.name})"
    )


def _relative(filename: str) -> str:
    for root in ("services/", "shared/", "contracts/"):
        if root in filename:
            return root + filename.split(root, 1)[1]
    return filename.rsplit("/", 1)[-1]


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
