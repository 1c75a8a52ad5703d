"""Pure parts of the shared runtime: error classes, dead-letter entries, header packing."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import exc

from shared.db import advisory_key
from shared.deadletter import DeadLetterReason, dead_letter
from shared.failures import is_transient
from shared.messages import pack_headers, unpack_headers


def _sa(orig: BaseException, cls: type[exc.DBAPIError] = exc.DBAPIError) -> exc.DBAPIError:
    return cls("stmt", {}, orig)


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (KafkaConnectionError(), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), True),
        (_sa(_PgError("57P01"), exc.OperationalError), True),  # admin shutdown
        (_sa(_PgError("08006")), True),  # connection failure
        (_sa(_PgError("42P01"), exc.ProgrammingError), True),  # missing table: misconfig, retry
        (_sa(_PgError("23505"), exc.IntegrityError), False),  # unique violation: the data
        (_sa(_PgError("22021"), exc.DataError), False),  # bad byte sequence: the data
        (ValueError("bug or bad value"), False),
    ],
)
def test_errors_are_classified_transient_or_not(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_transient_cause_is_found_through_the_chain() -> None:
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


def test_dead_letter_keeps_original_bytes_and_headers_and_says_why() -> None:
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        topic="lead.captured",
        partition=3,
        offset=42,
        timestamp=0,
        timestamp_type=0,
        key=b"deal-1",
        value=b"\xff not json",
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=11,
        headers=[("trace", b"\xfe"), ("dlq.reason", b"old")],
    )
    seen = datetime(2026, 11, 27, tzinfo=UTC)
    out = dead_letter(
        record,
        DeadLetterReason("not_json", "UndecodableMessage", "boom"),
        topic="lead_svc.dlq",
        service="lead_svc",
        seen_at=seen,
    )
    headers = dict(out.headers)
    assert (out.topic, out.key, out.payload) == ("lead_svc.dlq", b"deal-1", b"\xff not json")
    assert headers["trace"] == b"\xfe"
    assert headers["dlq.reason"] == b"not_json"  # a re-dead-lettered record gets fresh info
    assert headers["dlq.source_topic"] == b"lead.captured"
    assert headers["dlq.source_partition"] == b"3"
    assert headers["dlq.source_offset"] == b"42"
    assert headers["dlq.first_seen"] == seen.isoformat().encode()


def test_headers_with_binary_and_null_values_survive_the_outbox() -> None:
    headers = [("a", b"\x00\xff"), ("b", None), ("c", b"plain")]
    assert unpack_headers(pack_headers(headers)) == headers


def test_advisory_keys_are_stable_signed_64_bit() -> None:
    key = advisory_key("salesflow.relay.lead_svc")
    assert key == advisory_key("salesflow.relay.lead_svc")
    assert -(2**63) <= key < 2**63
    assert key != advisory_key("salesflow.relay.quote_svc")
