"""The checker can fail: each invariant is fed a broken history and must report it.

The fixture is a real history (seven deals through every path: revised, rejected, cancelled,
paid, disqualified, left open, delivered twice; and one batch of every poison kind), recorded by
`python -m chaos --keep-history` and trimmed to those deals. Unbroken, it passes every check; each
test breaks one thing the way a bug would and expects the invariant that guards it to fail.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chaos import archive
from chaos.checker import Result
from chaos.faults import Applied
from chaos.history import History, OpportunityRow, Rec
from chaos.recovery import Bounds, Recovery, measure
from chaos.schedule import KINDS, PRESETS, Fault, build_schedule, expand
from chaos.verdict import check, deals_complete, faults_applied, recovered

FIXTURE = Path(__file__).parent / "data" / "small_history.json.gz"


@pytest.fixture
def history() -> History:
    return archive.load(FIXTURE)


def failing(history: History) -> set[str]:
    return {r.name for r in check(history) if not r.passed}


def first(history: History, event_type: str, deal: str | None = None) -> Rec:
    for r in history.records:
        if r.env is not None and r.env.event_type == event_type and deal in (None, r.key):
            return r
    raise LookupError(event_type)


def deal_with(history: History, *event_types: str) -> str:
    kinds: dict[str, set[str]] = {}
    for r in history.records:
        if r.env is not None and r.key.startswith("deal-"):
            kinds.setdefault(r.key, set()).add(r.env.event_type)
    return next(d for d, k in sorted(kinds.items()) if set(event_types) <= k)


def swap(history: History, old: Rec, new: Rec) -> None:
    history.records[history.records.index(old)] = new


def with_payload(r: Rec, **changes: Any) -> Rec:
    assert r.env is not None
    env = r.env.model_copy(update={"payload": r.env.payload.model_copy(update=changes)})
    return replace(r, env=env)


def copy_as_new_event(r: Rec, offset_shift: int = 10_000) -> Rec:
    """The same effect published again under a new event id (what a second apply would do)."""
    assert r.env is not None
    return replace(
        r, offset=r.offset + offset_shift, env=r.env.model_copy(update={"event_id": uuid.uuid4()})
    )


def test_the_recorded_history_passes_every_invariant(history: History) -> None:
    results = check(history)
    assert [r.name for r in results if not r.passed] == []
    assert all(r.checked > 0 for r in results), [r.name for r in results if not r.checked]


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


def test_an_effect_published_twice_under_two_event_ids(history: History) -> None:
    history.records.append(copy_as_new_event(first(history, "invoice.posted")))
    broken = failing(history)
    assert "effects_once" in broken
    assert "invoice_per_confirmed_order" in broken


def test_a_payment_applied_twice(history: History) -> None:
    history.db.payments.append(history.db.payments[0])
    assert "effects_once" in failing(history)


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


def test_a_lead_without_a_decision_or_with_two(history: History) -> None:
    decided = first(history, "lead.disqualified")
    history.records.remove(decided)
    assert "lead_decided_once" in failing(history)
    history.records.append(decided)
    history.records.append(copy_as_new_event(decided))
    assert "lead_decided_once" in failing(history)


def test_an_opportunity_for_a_lead_that_was_not_qualified(history: History) -> None:
    lead = first(history, "lead.disqualified").key
    history.db.opportunities.append(OpportunityRow(uuid.uuid4(), lead, "open"))
    assert "opportunity_per_qualified_lead" in failing(history)


def test_an_accepted_quote_with_no_order_or_two(history: History) -> None:
    row = history.db.orders[0]
    history.db.orders.remove(row)
    assert "order_per_accepted_quote" in failing(history)
    history.db.orders += [row, replace(row, order_id=uuid.uuid4())]
    assert "order_per_accepted_quote" in failing(history)


def test_a_confirmed_order_without_its_invoice(history: History) -> None:
    deal = deal_with(history, "invoice.paid")
    posted = first(history, "invoice.posted", deal)
    history.records = [r for r in history.records if r is not posted]
    assert posted.env is not None
    invoice_id = posted.env.payload.invoice_id
    history.db.invoices = [i for i in history.db.invoices if i.invoice_id != invoice_id]
    assert "invoice_per_confirmed_order" in failing(history)


def test_a_cancelled_order_that_keeps_an_unpaid_invoice(history: History) -> None:
    cancelled = first(history, "invoice.cancelled")
    history.records.remove(cancelled)
    history.db.invoices = [
        replace(i, state="active") if i.deal_id == cancelled.key else i for i in history.db.invoices
    ]
    assert "invoice_per_confirmed_order" in failing(history)


def test_totals_one_cent_apart(history: History) -> None:
    row = history.db.orders[0]
    *head, grand = row.totals
    history.db.orders[0] = replace(row, totals=(*head, grand + Decimal("0.01")))  # type: ignore[arg-type]
    assert failing(history) == {"totals_to_the_cent"}


def test_a_document_whose_lines_do_not_add_up(history: History) -> None:
    posted = first(history, "invoice.posted")
    assert posted.env is not None
    totals = posted.env.payload.totals.model_copy(update={"tax_total": Decimal("0.01")})
    swap(history, posted, with_payload(posted, totals=totals))
    assert "totals_to_the_cent" in failing(history)


def test_payments_that_do_not_add_up(history: History) -> None:
    history.db.payments[0] = replace(history.db.payments[0], amount=Decimal("1.00"))
    assert "totals_to_the_cent" in failing(history)


def test_quote_revisions_out_of_order(history: History) -> None:
    deal = deal_with(history, "quote.closed", "quote.accepted")
    issued = [r for r in history.records if r.key == deal and r.topic == "quote.issued"]
    assert len(issued) == 2
    a, b = issued
    swap(history, a, replace(a, offset=b.offset))
    swap(history, b, replace(b, offset=a.offset))
    assert "legal_transitions" in failing(history)


def test_a_payment_stamped_before_its_invoice(history: History) -> None:
    paid = first(history, "invoice.paid")
    posted = first(history, "invoice.posted", paid.key)
    swap(history, paid, replace(paid, timestamp_ms=posted.timestamp_ms - 1))
    assert "legal_transitions" in failing(history)


def test_a_row_that_contradicts_the_events(history: History) -> None:
    deal = first(history, "order.cancelled").key
    history.db.orders = [
        replace(o, state="submitted") if o.deal_id == deal else o for o in history.db.orders
    ]
    assert "legal_transitions" in failing(history)


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


# --- harness-level checks -------------------------------------------------------------------


def _applied(ok: bool = True, recovery: list[Recovery] | None = None) -> Applied:
    fault = Fault(1, 20.0, "kill", "lead", {"restart_after_s": 1.0})
    return Applied(fault, 20.0, 21.0, ok=ok, services=("lead_svc",), recovery=recovery or [])


def test_a_fault_that_did_not_happen_fails_the_run() -> None:
    schedule = [_applied().fault, Fault(2, 60.0, "pg_restart", None, {"down_s": 3.0})]
    assert not faults_applied([_applied()], schedule).passed
    assert not faults_applied([_applied(ok=False)], schedule[:1]).passed
    assert faults_applied([_applied()], schedule[:1]).passed


def test_incomplete_deals_fail_the_run() -> None:
    assert not deals_complete({"deals": 10, "incomplete_deals": 1}).passed
    assert deals_complete({"deals": 10, "incomplete_deals": 0}).passed


def test_recovery_is_measured_from_the_heal() -> None:
    bounds = Bounds(progress_s=10, throughput_s=20, ratio=0.8, window_s=5)
    stalled: Counter[int] = Counter(dict.fromkeys(range(0, 20), 10))
    never = measure("lead_svc", stalled, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert never.progress_s is None and not never.within(bounds)
    slow = Counter({**dict.fromkeys(range(0, 20), 10), **dict.fromkeys(range(45, 80), 10)})
    late = measure("lead_svc", slow, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert late.progress_s == 26.0 and not late.within(bounds)
    weak = Counter({**dict.fromkeys(range(0, 20), 10), **dict.fromkeys(range(20, 80), 5)})
    half = measure("lead_svc", weak, 10.0, heal_s=20.0, now_s=80.0, bounds=bounds)
    assert half.progress_s == 1.0 and half.throughput_s is None and half.best_ratio == 0.5
    good = Counter(dict.fromkeys(range(0, 80), 10))
    fine = measure("lead_svc", good, 10.0, heal_s=20.5, now_s=80.0, bounds=bounds)
    assert fine.within(bounds) and fine.throughput_s == 4.5
    result = recovered([_applied(recovery=[never, fine])], bounds)
    assert [v.split(":")[0] for v in result.violations] == ["#1 kill on lead (restart_after_s=1.0)"]


def test_a_seed_names_its_schedule() -> None:
    kinds = expand(["all"])
    one = build_schedule(42, 1200, kinds)
    assert one == build_schedule(42, 1200, kinds)
    assert one != build_schedule(43, 1200, kinds)
    assert set(kinds) <= {f.kind for f in one}
    assert all(b.at_s > a.at_s for a, b in itertools.pairwise(one))
    assert set(expand(["ci"])) == set(PRESETS["ci"]) and set(KINDS) == set(kinds)


def test_results_report_their_violations() -> None:
    result = Result("x", "y", checked=3)
    result.fail("broken")
    assert not result.passed and result.summary()["samples"] == ["broken"]
