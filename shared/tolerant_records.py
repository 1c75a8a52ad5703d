"""Consumed records whose header NAMES are not UTF-8 reach the runtime instead of stopping the
partition.

Kafka's protocol types a header name as a UTF-8 string, but a client can write any bytes there
(`kcat -H $'\\xff\\xfe=x'`). aiokafka decodes names strictly while it parses a fetched batch, so
such a record raises inside the poll, before any code of ours sees it: nothing is dead-lettered,
the partition never moves again, and a restart hits the same record.

`install()` makes the consumer's fetcher keep each batch's bytes beside aiokafka's fast (C)
parser. Only when that parser fails on a name does the batch get parsed again, by aiokafka's
pure-Python parser over a buffer whose byte strings decode with `surrogateescape`: the record
comes through with its bytes intact and its name escaped, and the runtime's intake dead-letters
it as `bad_header` like every other poison record. Batches without such a name never take the
slow path. aiokafka is pinned (pyproject.toml); tests/integration/test_poison_headers.py puts
such a record on the real broker, so an upgrade that changes these internals fails there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsIndex, cast, overload

from aiokafka.consumer import fetcher
from aiokafka.record.default_records import _DefaultRecordBatchPy
from aiokafka.record.memory_records import MemoryRecords

_BATCH_HEADER = 12  # base offset (int64) + batch length (int32): how every batch is framed


class _EscapedBytes(bytes):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes.decode(self, encoding, "surrogateescape")


class _EscapingBuffer(bytearray):
    """A batch buffer whose slices decode leniently (only the header-name decode slices
    and decodes; keys, values and header values are copied with `bytes(...)`)."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> bytearray: ...

    def __getitem__(self, index: SupportsIndex | slice) -> int | bytearray:
        item = bytearray.__getitem__(self, index)
        if isinstance(index, slice):
            return cast("bytearray", _EscapedBytes(cast("bytearray", item)))
        return item


def _lenient_records(raw: bytes, after: int) -> Iterator[Any]:
    batch = _DefaultRecordBatchPy(raw)
    batch._maybe_uncompress()  # aiokafka's own first step of reading records
    batch._buffer = _EscapingBuffer(batch._buffer)  # the one change: names decode leniently
    for record in batch:
        if record.offset > after:
            yield record


class _Batch:
    """One fetched batch: aiokafka's parser, and the batch's bytes to re-read it leniently."""

    def __init__(self, fast: Any, raw: bytes) -> None:
        self._fast = fast
        self._raw = raw
        self._started = False
        self._last_offset = -1
        self._lenient: Iterator[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fast, name)

    def __iter__(self) -> _Batch:
        if not self._started:
            self._started = True
            self._fast = iter(self._fast)
        return self

    def __next__(self) -> Any:
        if self._lenient is None:
            try:
                record = next(self._fast)
            except UnicodeDecodeError:
                self._lenient = _lenient_records(self._raw, self._last_offset)
            else:
                self._last_offset = record.offset
                return record
        return next(self._lenient)


class _KeptRecords:
    """`MemoryRecords` that hands out each batch with its bytes."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._fast = MemoryRecords(raw)
        self._pos = 0

    def size_in_bytes(self) -> int:
        return int(self._fast.size_in_bytes())

    def has_next(self) -> bool:
        return bool(self._fast.has_next())

    def next_batch(self) -> Any:
        batch = self._fast.next_batch()
        if batch is None:
            return None
        length = int.from_bytes(self._raw[self._pos + 8 : self._pos + 12], "big", signed=True)
        end = self._pos + _BATCH_HEADER + length
        raw, self._pos = self._raw[self._pos : end], end
        return _Batch(batch, bytes(raw))


def install() -> None:
    """Make every aiokafka consumer of this process tolerant of non-UTF-8 header names
    (idempotent)."""
    fetcher.MemoryRecords = _KeptRecords
