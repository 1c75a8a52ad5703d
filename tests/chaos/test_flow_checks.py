"""The flow invariants can fail: quiescence, accounting, dedupe, rolled-back transactions and
poison answered, each fed the checker's fixture (see test_checker.py) broken one way."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

from chaos.history import History, Rec
from tests.chaos.edits import failing, first, swap


def test_lag_or_a_full_outbox_is_not_quiescence(history: History) -> None:
    history.lag["order_svc"] = 3
    assert "quiescence" in failing(history)
    history.lag["order_svc"] = 0
    history.db.outbox_rows["lead_svc"] = 1
    assert "quiescence" in failing(history)


def test_a_record_neither_applied_nor_parked_is_lost(history: History) -> None:
    captured = first(history, "lead.captured")
    assert captured.env is not None
    history.db.inbox["lead_svc"].discard(captured.env.event_id)
    assert "accounting" in failing(history)


def test_a_record_applied_and_dead_lettered_is_counted_twice(history: History) -> None:
    captured = first(history, "lead.captured")
    history.records.append(
        Rec(
            "lead_svc.dlq",
            captured.partition,
            999_999,
            captured.key,
            captured.timestamp_ms + 1,
            (
                ("dlq.reason", b"processing_failed"),
                ("dlq.source_topic", captured.topic.encode()),
                ("dlq.source_partition", str(captured.partition).encode()),
                ("dlq.source_offset", str(captured.offset).encode()),
            ),
        )
    )
    assert "accounting" in failing(history)


def test_relay_resends_with_the_same_event_id_are_fine(history: History) -> None:
    posted = first(history, "invoice.posted")
    history.records.append(
        replace(posted, offset=posted.offset + 5, timestamp_ms=posted.timestamp_ms + 9)
    )
    assert failing(history) == set()


def test_a_run_that_demands_dedupe_must_have_dropped_duplicates(history: History) -> None:
    history.dedupe_required = True
    history.duplicates_dropped = 0
    assert failing(history) == {"duplicates_observed"}
    history.duplicates_dropped = 1
    assert failing(history) == set()


def test_an_event_whose_transaction_rolled_back(history: History) -> None:
    confirmed = first(history, "order.confirmed")
    assert confirmed.env is not None
    order_id = confirmed.env.payload.order_id
    history.db.orders = [o for o in history.db.orders if o.order_id != order_id]
    assert "no_rolled_back_events" in failing(history)


def test_an_event_whose_cause_was_never_committed(history: History) -> None:
    fulfilled = first(history, "order.fulfilled")
    assert fulfilled.env is not None
    swap(
        history,
        fulfilled,
        replace(fulfilled, env=fulfilled.env.model_copy(update={"causation_id": uuid.uuid4()})),
    )
    assert "no_rolled_back_events" in failing(history)


def test_poison_not_parked_or_parked_for_another_reason(history: History) -> None:
    target = next(p for p in history.poison if p.kind == "not_json")
    place = (target.topic, target.partition, target.offset)
    parked = [r for r in history.records if r.source == place]
    assert parked
    history.records = [r for r in history.records if r.source != place]
    assert "poison_answered" in failing(history)
    history.records += [
        replace(
            r,
            headers=(
                *[(k, v) for k, v in r.headers if k != "dlq.reason"],
                ("dlq.reason", b"oversized"),
            ),
        )
        for r in parked
    ]
    assert "poison_answered" in failing(history)


def test_an_invalid_command_that_is_not_refused(history: History) -> None:
    target = next(p for p in history.poison if p.kind == "business_invalid")
    history.records = [
        r
        for r in history.records
        if not (
            r.env is not None
            and getattr(r.env.payload, "command_event_id", None) == target.event_id
        )
    ]
    assert "poison_answered" in failing(history)


def test_each_poison_kind_is_in_the_fixture(history: History) -> None:
    kinds = Counter(p.kind for p in history.poison)
    assert set(kinds) == {
        "not_json",
        "wrong_types",
        "unknown_event_type",
        "misplaced_event_type",
        "non_utf8_header",
        "null_header",
        "oversized",
        "key_mismatch",
        "header_mismatch",
        "business_invalid",
    }
    assert set(kinds.values()) == {4}  # one per service
