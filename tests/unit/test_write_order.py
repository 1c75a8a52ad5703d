"""A batch is applied in the order its records were written: partitions merged by timestamp,
each partition's own order kept whatever its timestamps say."""

from __future__ import annotations

from collections.abc import Sequence

from shared.intake import Record
from shared.runtime import in_write_order
from tests.support.runtime import consumed


def _at(topic: str, partition: int, offset: int, timestamp: int) -> Record:
    return consumed(
        None, offset, topic=topic, partition=partition, value=b"{}", timestamp=timestamp
    )


def _coordinates(records: Sequence[Record]) -> list[tuple[str, int, int]]:
    return [(r.topic, r.partition, r.offset) for r in records]


def test_a_capture_written_before_its_update_on_another_topic_comes_first() -> None:
    update = _at("lead.commands", 2, 7, timestamp=1_000_002)
    capture = _at("lead.captured", 4, 9, timestamp=1_000_001)
    assert _coordinates(in_write_order([update, capture])) == [
        ("lead.captured", 4, 9),
        ("lead.commands", 2, 7),
    ]


def test_each_partition_keeps_its_order_even_when_its_clock_went_back() -> None:
    first, second = _at("t", 0, 1, timestamp=50), _at("t", 0, 2, timestamp=10)
    other = _at("u", 0, 1, timestamp=20)
    ordered = _coordinates(in_write_order([first, second, other]))
    assert ordered.index(("t", 0, 1)) < ordered.index(("t", 0, 2))
    assert len(ordered) == 3


def test_ties_keep_the_batch_order_and_one_partition_is_left_alone() -> None:
    a, b = _at("t", 0, 1, timestamp=5), _at("u", 1, 1, timestamp=5)
    assert _coordinates(in_write_order([a, b])) == [("t", 0, 1), ("u", 1, 1)]
    single = [_at("t", 0, n, timestamp=100 - n) for n in range(3)]
    assert in_write_order(single) is single
