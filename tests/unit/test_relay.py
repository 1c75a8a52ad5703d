"""The outbox relay against the in-memory mailbox and a recording producer: what leaves, in
which order, and when it is deleted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber

from shared.backoff import RetryPolicy
from shared.handover import Pending
from shared.health import Readiness
from shared.mailbox.memory import MemoryMailbox
from shared.messages import Outgoing
from shared.metrics import WorkerMetrics
from shared.relay import OutboxRelay

FAST = RetryPolicy(initial_s=0.001, max_s=0.004, budget_s=0.05)


class RecordingProducer:
    """Records what was sent; `fail_next` sends fail with a broker error (`error`)."""

    def __init__(self, error: type[Exception] = KafkaConnectionError) -> None:
        self.sent: list[bytes | None] = []
        self.fail_next = 0
        self.error = error
        self.stopped = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True

    async def send(
        self, topic: str, *, value: bytes | None, key: bytes | None, headers: Any
    ) -> Awaitable[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail_next:
            self.fail_next -= 1
            future.set_exception(self.error("broker gone"))
        else:
            self.sent.append(value)
            future.set_result(None)
        return future


def _records(*names: str) -> list[Outgoing]:
    return [Outgoing("t", b"deal", name.encode(), [("h", b"v")]) for name in names]


def _relay(mailbox: MemoryMailbox, *producers: RecordingProducer) -> OutboxRelay:
    """A relay whose factory hands out `producers` in turn (a replaced producer's successor)."""
    made = iter(producers)
    factory: Callable[[], Any] = lambda: next(made)  # noqa: E731 - the relay takes a factory
    return OutboxRelay(
        service="lead_svc",
        mailbox=mailbox,
        producer_factory=factory,
        metrics=WorkerMetrics("lead_svc"),
        readiness=Readiness(),
        batch_size=100,
        poll_interval_s=0.01,
        retry_policy=FAST,
    )


async def _commit(mailbox: MemoryMailbox, relay: OutboxRelay, *names: str) -> list[int]:
    """What the batch runtime does after a transaction: post, commit, hand over."""
    records = _records(*names)
    seen = relay.pending()
    async with mailbox.transaction() as tx:
        posted = await tx.post(records, seen.ids)
    relay.committed(records, posted.ids, alone=posted.alone, seen=seen)
    return posted.ids


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the condition is the relay's side effects
            await asyncio.sleep(0.005)


async def test_rows_the_worker_committed_alone_are_sent_from_memory_then_deleted() -> None:
    mailbox, producer = MemoryMailbox(), RecordingProducer()
    relay = _relay(mailbox, producer)
    await relay.start()
    try:
        await _until(lambda: "relay" in mailbox.calls)  # the start-up poll found nothing
        mailbox.calls.clear()
        await _commit(mailbox, relay, "a", "b")
        await _until(lambda: mailbox.outbox == {})
        assert producer.sent == [b"a", b"b"]
        assert "relay" not in mailbox.calls[: mailbox.calls.index("delete")], (
            "sent without reading the rows back"
        )
    finally:
        await relay.stop(drain_timeout_s=2)


async def test_rows_committed_by_someone_else_leave_by_polling_in_id_order() -> None:
    mailbox, producer = MemoryMailbox(), RecordingProducer()
    async with mailbox.transaction() as tx:  # another process's rows
        await tx.post(_records("x1", "x2"), [])
    relay = _relay(mailbox, producer)
    await relay.start()
    try:
        await _commit(mailbox, relay, "mine")  # not alone: older rows wait
        await _until(lambda: mailbox.outbox == {})
        assert producer.sent == [b"x1", b"x2", b"mine"]
    finally:
        await relay.stop(drain_timeout_s=2)


async def test_after_a_broker_failure_handed_over_rows_leave_in_id_order_by_polling() -> None:
    mailbox, producer = MemoryMailbox(), RecordingProducer()
    relay = _relay(mailbox, producer)
    await relay.start()
    try:
        await _until(lambda: "relay" in mailbox.calls)
        # The hand-over of "a", "b" fails at the broker. An idempotent producer never lands a
        # record behind a failed one of the same partition (the broker refuses the sequence
        # gap), so both fail.
        producer.fail_next = 2
        await _commit(mailbox, relay, "a", "b")
        await _commit(mailbox, relay, "c")
        await _until(lambda: mailbox.outbox == {})
        # Whatever was sent twice, the first copy of each event keeps the commit order.
        first_seen = list(dict.fromkeys(producer.sent))
        assert first_seen == [b"a", b"b", b"c"]
    finally:
        await relay.stop(drain_timeout_s=2)


async def test_a_producer_whose_sequence_state_the_broker_lost_is_replaced() -> None:
    """Seed 20261405: after a whole cluster was SIGKILLed, brokers answered the relays'
    producers OutOfOrderSequenceNumber on every retry. Only a new producer (a new producer id)
    sends again; the rows stay in the outbox until it has."""
    mailbox = MemoryMailbox()
    lost, fresh = RecordingProducer(OutOfOrderSequenceNumber), RecordingProducer()
    lost.fail_next = 10**6  # never gets past it
    relay = _relay(mailbox, lost, fresh)
    await relay.start()
    try:
        await _commit(mailbox, relay, "a", "b")
        await _until(lambda: mailbox.outbox == {})
        assert lost.stopped
        assert fresh.sent == [b"a", b"b"]
    finally:
        await relay.stop(drain_timeout_s=2)


async def test_other_broker_failures_keep_the_producer() -> None:
    mailbox, producer = MemoryMailbox(), RecordingProducer()
    relay = _relay(mailbox, producer)
    await relay.start()
    try:
        producer.fail_next = 3
        await _commit(mailbox, relay, "a")
        await _until(lambda: mailbox.outbox == {})
        assert not producer.stopped
        assert producer.sent == [b"a"]
    finally:
        await relay.stop(drain_timeout_s=2)


async def test_stop_drains_what_is_committed() -> None:
    mailbox, producer = MemoryMailbox(), RecordingProducer()
    relay = _relay(mailbox, producer)
    await relay.start()
    async with mailbox.transaction() as tx:
        await tx.post(_records(*(f"r{i}" for i in range(250))), [])
    await relay.stop(drain_timeout_s=5)
    assert mailbox.outbox == {}
    assert len(producer.sent) == 250


def test_the_relay_sends_from_memory_only_what_was_judged_against_its_current_queue() -> None:
    relay = _relay(MemoryMailbox(), RecordingProducer())
    seen = relay.pending()
    assert seen.ids == []
    relay.committed(_records("a", "b"), [10, 11], alone=True, seen=seen)
    assert sorted(relay.pending().ids) == [10, 11]

    relay.committed(_records("c"), [12], alone=False, seen=relay.pending())
    assert 12 not in relay.pending().ids, "rows behind other rows leave by polling, in id order"

    stale = Pending(era=seen.era - 1, ids=[])
    relay.committed(_records("d"), [13], alone=True, seen=stale)
    assert 13 not in relay.pending().ids, "judged against a queue a failure has since emptied"

    relay.committed(_records("e", "f"), [14], alone=True, seen=relay.pending())
    assert 14 not in relay.pending().ids, "ids and records must pair up"
