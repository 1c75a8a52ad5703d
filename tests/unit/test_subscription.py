"""The consume loop's contract with Kafka: offsets are committed only for a batch the runtime
applied, after it applied it, in order; anything else is rewound to be read again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from shared.intake import Record
from shared.runtime import BatchDeferred, BatchOutcome
from shared.subscription import OffsetCommits, consume_batch
from tests.support.leads import captured
from tests.support.runtime import consumed


@dataclass
class FakeBatch:
    records: list[Record]
    log: list[str]
    name: str = "batch"
    ack_delay_s: float = 0.0

    @property
    def raw_message(self) -> Sequence[Record]:
        return self.records

    async def ack(self) -> None:
        await asyncio.sleep(self.ack_delay_s)
        self.log.append(f"ack {self.name}")

    async def nack(self) -> None:
        self.log.append(f"nack {self.name}")


@dataclass
class FakeRuntime:
    log: list[str]
    error: BaseException | None = None
    handled: list[int] = field(default_factory=list)

    async def handle(self, records: Sequence[Record]) -> BatchOutcome:
        self.log.append("handle")
        if self.error is not None:
            raise self.error
        self.log.append("committed")
        return BatchOutcome(len(records), len(records), 0, 0, 0)


def _batch(log: list[str], name: str = "batch", delay: float = 0.0) -> FakeBatch:
    return FakeBatch([consumed(captured("L1"), 0)], log, name, delay)


async def test_offsets_are_committed_after_the_batch_is_applied() -> None:
    log: list[str] = []
    commits = OffsetCommits()
    await consume_batch(FakeRuntime(log), commits, _batch(log))
    await commits.flush()
    assert log == ["handle", "committed", "ack batch"]


@pytest.mark.parametrize(
    "error", [BatchDeferred("database down"), RuntimeError("a bug")], ids=["deferred", "failed"]
)
async def test_a_batch_that_was_not_applied_is_rewound_never_acknowledged(
    error: BaseException,
) -> None:
    log: list[str] = []
    commits = OffsetCommits()
    outcome = await consume_batch(
        FakeRuntime(log, error), commits, _batch(log), pause_after_failure_s=0
    )
    await commits.flush()
    assert outcome is None
    assert log == ["handle", "nack batch"]


async def test_offset_commits_leave_in_batch_order_one_at_a_time() -> None:
    log: list[str] = []
    commits = OffsetCommits()
    runtime = FakeRuntime(log)
    # The first commit is slow: the second batch is handled meanwhile, its commit waits.
    await consume_batch(runtime, commits, _batch(log, "first", delay=0.05))
    await consume_batch(runtime, commits, _batch(log, "second"))
    await commits.flush()
    assert [line for line in log if line.startswith("ack")] == ["ack first", "ack second"]
    assert log.index("ack first") > log.index("handle"), "the commit overlaps the next batch"


async def test_after_flush_commits_are_awaited_before_returning() -> None:
    log: list[str] = []
    commits = OffsetCommits()
    await commits.flush()
    await consume_batch(FakeRuntime(log), commits, _batch(log, delay=0.02))
    assert log[-1] == "ack batch", "a stopping worker leaves nothing to redeliver"
