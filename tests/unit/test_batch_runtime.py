"""The batch runtime against the in-memory mailbox: what is applied, once, and what is parked,
under redelivery, duplicates, poison input and a database that fails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from contracts.cloudevents import STRUCTURED
from contracts.envelope import Envelope, structured_cloudevent
from contracts.topics import topic
from shared.backoff import RetryPolicy
from shared.health import Readiness
from shared.intake import Intake
from shared.mailbox.memory import MemoryMailbox
from shared.metrics import WorkerMetrics
from shared.runtime import BatchDeferred, BatchRuntime
from tests.support.leads import captured, command
from tests.support.runtime import RecordingSink, RecordingStage, consumed

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(initial_s=0.001, max_s=0.004, budget_s=0.05)


class _Clock:
    def now(self) -> datetime:
        return NOW


class Harness:
    def __init__(self, retry_policy: RetryPolicy = FAST) -> None:
        self.mailbox = MemoryMailbox()
        self.stage = RecordingStage()
        self.sink = RecordingSink()
        self.metrics = WorkerMetrics("lead_svc")
        self.readiness = Readiness()
        self.runtime = BatchRuntime(
            service="lead_svc",
            stage=self.stage,
            mailbox=self.mailbox,
            intake=Intake(
                {n: frozenset(topic(n).event_types) for n in ("lead.captured", "lead.commands")},
                max_message_bytes=262_144,
            ),
            dead_letter_topic="lead_svc.dlq",
            clock=_Clock(),
            metrics=self.metrics,
            readiness=self.readiness,
            retry_policy=retry_policy,
            outbox=self.sink,
        )

    def effects(self) -> list[Any]:
        return list(self.mailbox.rows["effects"])

    def outbox_topics(self) -> list[str]:
        return [self.mailbox.outbox[i].topic for i in sorted(self.mailbox.outbox)]

    def dead_letters(self) -> list[dict[str, str]]:
        return [
            {k: (v or b"").decode() for k, v in record.headers if k.startswith("dlq.")}
            for record in self.mailbox.outbox.values()
            if record.topic == "lead_svc.dlq"
        ]

    def sample(self, name: str) -> float:
        value = self.metrics.registry.get_sample_value(name, {"service": "lead_svc"})
        return value or 0.0


def leads(*ids: str) -> list[Envelope[Any]]:
    return [captured(lead_id) for lead_id in ids]


async def test_a_batch_is_applied_once_in_one_transaction_and_handed_to_the_relay() -> None:
    h = Harness()
    batch = [consumed(e, n) for n, e in enumerate(leads("L1", "L2", "L3"))]
    outcome = await h.runtime.handle(batch)
    assert (outcome.processed, outcome.duplicates, outcome.published) == (3, 0, 3)
    assert len(h.effects()) == 3
    assert h.mailbox.commits == 1
    assert h.outbox_topics() == ["effects"] * 3
    assert h.sink.handed == [(sorted(h.mailbox.outbox), True)]


async def test_a_batch_redelivered_after_its_commit_changes_nothing() -> None:
    # A crash between the database commit and the offset commit: the same records come again.
    h = Harness()
    batch = [consumed(e, n) for n, e in enumerate(leads("L1", "L2"))]
    await h.runtime.handle(batch)
    again = await h.runtime.handle(batch)
    assert (again.processed, again.duplicates, again.published) == (0, 2, 0)
    assert len(h.effects()) == 2
    assert len(h.stage.batches) == 1, "the stage never sees what the inbox already holds"
    assert h.sample("salesflow_duplicates_dropped_total") == 2


async def test_duplicates_within_a_batch_and_across_batches_are_dropped() -> None:
    h = Harness()
    a, b, c = leads("L1", "L2", "L3")
    first = await h.runtime.handle([consumed(a, 0), consumed(b, 1), consumed(a, 2)])
    assert (first.processed, first.duplicates) == (2, 1)
    second = await h.runtime.handle([consumed(b, 3), consumed(c, 4)])
    assert (second.processed, second.duplicates) == (1, 1)
    assert h.stage.batches[-1] == [c.event_id]
    assert len(h.effects()) == 3


async def test_a_batch_that_fails_on_its_data_is_replayed_message_by_message() -> None:
    h = Harness()
    good1, bad, good2 = leads("L1", "L2", "L3")
    h.stage.poison.add(bad.event_id)
    outcome = await h.runtime.handle([consumed(good1, 0), consumed(bad, 1), consumed(good2, 2)])
    assert (outcome.processed, outcome.dead_lettered) == (2, 1)
    assert sorted(map(str, h.effects())) == sorted([str(good1.event_id), str(good2.event_id)])
    (parked,) = h.dead_letters()
    assert parked["dlq.reason"] == "processing_failed"
    assert parked["dlq.source_offset"] == "1"
    assert bad.event_id not in h.mailbox.inbox, "its claim rolled back with its transaction"
    assert good1.event_id in h.mailbox.inbox and good2.event_id in h.mailbox.inbox


async def test_poison_records_are_parked_in_the_batch_transaction_and_the_rest_applied() -> None:
    h = Harness()
    good, other, stray = leads("L1", "L2", "L3")
    batch = [
        consumed(good, 0),
        consumed(None, 1, topic="lead.captured", key=b"x", value=b"{not json", headers=[]),
        consumed(other, 2, key=None),  # no key: its deal's order would be lost
        consumed(stray, 3, headers=[("\udcff\udcfe", b"x")]),  # a name that was not UTF-8
        consumed(
            command("lead.qualify", "L9"), 4, topic="lead.captured"
        ),  # a command on the wrong topic
        consumed(other, 5, headers=[("event_type", None)]),
    ]
    outcome = await h.runtime.handle(batch)
    assert (outcome.processed, outcome.dead_lettered) == (1, 5)
    assert h.mailbox.commits == 1, "parking and applying commit together"
    reasons = [d["dlq.reason"] for d in h.dead_letters()]
    assert reasons == [
        "not_json",
        "key_mismatch",
        "bad_header",
        "unexpected_event_type",
        "bad_header",
    ]
    renamed = next(r for r in h.mailbox.outbox.values() if r.topic == "lead_svc.dlq")
    assert renamed.payload == b"{not json", "a dead letter keeps the original bytes"
    names = [k for r in h.mailbox.outbox.values() for k, _ in r.headers]
    assert "\\xff\\xfe" in names, "an undecodable header name is kept, written out"


async def test_structured_cloudevents_are_applied_and_a_malformed_one_parked() -> None:
    h = Harness()
    good, bad, after = leads("L1", "L2", "L3")
    structured = [("content-type", STRUCTURED.encode())]
    broken = orjson.loads(structured_cloudevent(bad))
    del broken["subject"]
    batch = [
        consumed(good, 0, value=structured_cloudevent(good), headers=structured),
        consumed(bad, 1, value=orjson.dumps(broken), headers=structured),
        consumed(after, 2),
    ]
    outcome = await h.runtime.handle(batch)
    assert (outcome.processed, outcome.dead_lettered) == (2, 1), "the partition goes on"
    assert sorted(map(str, h.effects())) == sorted([str(good.event_id), str(after.event_id)])
    (parked,) = h.dead_letters()
    assert parked["dlq.reason"] == "schema_violation"
    assert "CloudEvent: subject missing" in parked["dlq.error"]
    (record,) = [r for r in h.mailbox.outbox.values() if r.topic == "lead_svc.dlq"]
    assert ("content-type", STRUCTURED.encode()) in record.headers, "original headers kept"


async def test_a_database_outage_is_retried_in_place_and_the_batch_applied_once() -> None:
    h = Harness()
    h.mailbox.fail("commit", ConnectionResetError("server closed the connection"), times=2)
    outcome = await h.runtime.handle([consumed(e, n) for n, e in enumerate(leads("L1", "L2"))])
    assert outcome.processed == 2
    assert len(h.effects()) == 2
    assert h.sample("salesflow_transient_errors_total") == 2
    assert h.readiness.database, "ready again once the database answered"
    assert h.dead_letters() == [], "an outage parks nothing"


async def test_an_outage_past_the_budget_defers_the_batch_and_commits_nothing() -> None:
    h = Harness()
    h.mailbox.fail("begin", ConnectionRefusedError("down"), times=1000)
    with pytest.raises(BatchDeferred):
        await h.runtime.handle([consumed(e, n) for n, e in enumerate(leads("L1", "L2"))])
    assert h.effects() == [] and h.mailbox.inbox == {} and h.mailbox.outbox == {}
    assert not h.readiness.database
    assert h.sample("salesflow_transient_errors_total") >= 2
    assert h.dead_letters() == []


async def test_an_outage_during_the_per_message_replay_defers_the_whole_batch() -> None:
    h = Harness()
    good, bad = leads("L1", "L2")
    h.stage.poison.add(bad.event_id)
    # The batch fails on its data, then the database goes away while it is replayed.
    h.mailbox.fail("post", ValueError("a data error"), times=1)
    h.mailbox.fail("begin", ConnectionRefusedError("down"), times=1000)
    with pytest.raises(BatchDeferred):
        await h.runtime.handle([consumed(good, 0), consumed(bad, 1)])
    assert h.effects() == [] and h.dead_letters() == [], "nothing parked for an outage"
