"""Fetched batches with a header NAME that is not UTF-8: aiokafka's own parser fails on them;
the tolerant records parse the batch again, bytes intact, name escaped."""

from __future__ import annotations

import pytest
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from aiokafka.record.memory_records import MemoryRecords

from shared.tolerant_records import _KeptRecords


class RawName(str):
    """A header name the Python batch builder writes as these bytes (not UTF-8)."""

    __slots__ = ()

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe"


def batch_bytes(base_offset: int, records: list[tuple[bytes, list[tuple[str, bytes]]]]) -> bytes:
    builder = _DefaultRecordBatchBuilderPy(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for delta, (value, headers) in enumerate(records):
        builder.append(delta, timestamp=None, key=b"k", value=value, headers=headers)
    raw = bytearray(builder.build())
    raw[0:8] = base_offset.to_bytes(8, "big")  # the base offset is outside the CRC
    return bytes(raw)


def read_all(records: object) -> list[tuple[int, bytes, list[tuple[str, bytes]]]]:
    out: list[tuple[int, bytes, list[tuple[str, bytes]]]] = []
    while records.has_next():  # type: ignore[attr-defined]
        batch = records.next_batch()  # type: ignore[attr-defined]
        assert batch.validate_crc()
        out.extend((r.offset, r.value, r.headers) for r in batch)
    return out


def test_a_bad_header_name_is_escaped_and_every_record_of_every_batch_still_read() -> None:
    raw = batch_bytes(
        0,
        [(b"v0", [("ok", b"1")]), (b"v1", [(RawName("xx"), b"x")]), (b"v2", [])],
    ) + batch_bytes(3, [(b"v3", [])])
    with pytest.raises(UnicodeDecodeError):
        read_all(MemoryRecords(raw))
    assert read_all(_KeptRecords(raw)) == [
        (0, b"v0", [("ok", b"1")]),
        (1, b"v1", [("\udcff\udcfe", b"x")]),
        (2, b"v2", []),
        (3, b"v3", []),
    ]


def test_good_batches_are_read_by_the_fast_parser_unchanged() -> None:
    raw = batch_bytes(7, [(b"a", [("event_type", b"lead.captured")]), (b"b", [])])
    assert read_all(_KeptRecords(raw)) == read_all(MemoryRecords(raw))
