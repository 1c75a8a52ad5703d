"""The race invariant can fail: commands of one deal published at once by two producers.

The fixture with `with_races`: one quote accepted and rejected at once (the reject refused as no
longer open) and one payment sent twice under one payment id (the second copy a no-op). Each
test breaks it the way a bug would and expects `races_decided_once` to report it.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from chaos.history import History, PaymentRow, Rec
from chaos.verdict import check
from tests.chaos.edits import first, payload, swap, with_payload, with_races, with_time_and_base


def _raced(history: History) -> History:
    return with_races(with_time_and_base(history))


def _failing(history: History) -> set[str]:
    return {r.name for r in check(history) if not r.passed}


def _races(history: History) -> dict[str, float]:
    return next(r for r in check(history) if r.name == "races_decided_once").counts


def _refusal(history: History) -> Rec:
    """The refusal of the racing reject (`with_races` adds it last; the poison ones come first)."""
    return [r for r in history.records if r.topic == "quote.rejected"][-1]


def test_the_races_are_found_and_counted(history: History) -> None:
    counts = _races(_raced(history))
    assert counts["accept_reject"] == 1
    assert counts["accept_won"] == 1
    assert counts["same_payment_id"] == 1


def test_both_racing_commands_took_effect(history: History) -> None:
    raced = _raced(history)
    refusal = _refusal(raced)
    reject_id = payload(refusal).command_event_id
    raced.records.remove(refusal)
    closed = first(raced, "quote.accepted")
    assert closed.env is not None
    # the rejection applied too: the quote closed by the command that should have lost
    env = closed.env.model_copy(update={"event_id": uuid.uuid4(), "causation_id": reject_id})
    raced.records.append(replace(closed, topic="quote.closed", env=env, offset=closed.offset + 1))
    assert "races_decided_once" in _failing(raced)


def test_the_loser_was_never_answered(history: History) -> None:
    raced = _raced(history)
    raced.records.remove(_refusal(raced))
    assert "races_decided_once" in _failing(raced)


def test_the_loser_refused_for_another_reason(history: History) -> None:
    raced = _raced(history)
    refusal = _refusal(raced)
    swap(raced, refusal, with_payload(refusal, reason_code="unknown_quote"))
    assert "races_decided_once" in _failing(raced)


def test_a_payment_sent_twice_applied_twice(history: History) -> None:
    raced = _raced(history)
    paid = first(raced, "invoice.paid")
    twin = [
        r
        for r in raced.records
        if r.topic == "invoice.commands"
        and r.env is not None
        and r.env.event_type == "invoice.record_payment"
        and payload(r).payment_id == payload(paid).payment_id
    ]
    assert len(twin) == 2
    assert paid.env is not None
    env = paid.env.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "causation_id": twin[1].env.event_id if twin[1].env else None,
        }
    )
    raced.records.append(replace(paid, env=env, offset=paid.offset + 1))
    p = payload(paid)
    raced.db.payments.append(PaymentRow(p.payment_id, p.invoice_id, p.amount))
    broken = _failing(raced)
    assert "races_decided_once" in broken
    assert "effects_once" in broken
