"""The verdict of a run: the invariants over its history plus what the harness itself saw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos import billing, business, races, time_rules
from chaos.checker import (
    Index,
    Result,
    accounting,
    duplicates_observed,
    effects_once,
    no_rolled_back_events,
    poison_answered,
    quiescence,
)
from chaos.faults import Applied
from chaos.history import History
from chaos.recovery import Bounds
from chaos.schedule import Fault


def check(history: History) -> list[Result]:
    """Every invariant over one history (pure: no I/O)."""
    ix = Index(history)
    return [
        quiescence(ix),
        accounting(ix),
        effects_once(ix),
        duplicates_observed(ix),
        no_rolled_back_events(ix),
        business.leads_decided_once(ix),
        business.opportunity_per_qualified_lead(ix),
        business.order_per_accepted_quote(ix),
        billing.billed_by_policy(ix),
        billing.billed_within_ordered(ix),
        billing.cancelled_orders_credited(ix),
        business.totals_to_the_cent(ix),
        business.legal_transitions(ix),
        races.races_decided_once(ix),
        billing.receivables_balance(ix),
        billing.customer_credit_non_negative(ix),
        billing.document_numbers_gap_free(ix),
        time_rules.no_active_quote_past_validity(ix),
        time_rules.reminders_once_and_never_after_payment(ix),
        time_rules.base_amounts_by_the_rule(ix),
        time_rules.time_rules_on_the_tick(ix),
        poison_answered(ix),
    ]


def faults_applied(applied: Sequence[Applied], schedule: Sequence[Fault]) -> Result:
    res = Result(
        "faults_applied",
        "every scheduled fault was applied as intended (a crash point really crashed the worker)",
    )
    res.checked = len(schedule)
    done = {a.fault.index for a in applied}
    for fault in schedule:
        if fault.index not in done:
            res.fail(f"{fault.describe()} was not applied (the load ended first)")
    for a in applied:
        if not a.ok:
            res.fail(f"{a.fault.describe()}: {a.detail}")
    return res


def isolated(foreign: dict[str, int]) -> Result:
    """No other deployment's workers on the run's database (checked before the run starts,
    where they make it refuse to run, and again once its own workers have exited)."""
    res = Result(
        "isolated_database",
        "no salesflow worker but the run's own was connected to its database: another "
        "deployment's relays would publish the run's outbox rows to their own Kafka",
    )
    res.checked = 1
    for service, n in sorted(foreign.items()):
        res.fail(f"{n} connections of {service} remained after the run's workers exited")
    return res


def replicated(found: dict[str, dict[str, int]], expected: Sequence[str]) -> Result:
    """On a three-broker cluster the run proves what production runs: every topic on three
    replicas, and a write acknowledged by two of them at least (min.insync.replicas=2)."""
    res = Result(
        "replicated_topics",
        "on the cluster every salesflow topic has 3 replicas per partition and "
        "min.insync.replicas=2",
    )
    for name in expected:
        res.checked += 1
        topic = found.get(name)
        if topic is None:
            res.fail(f"{name}: not found on the cluster")
        elif topic.get("replicas") != 3 or topic.get("min_insync") != 2:
            res.fail(
                f"{name}: {topic.get('replicas')} replicas, "
                f"min.insync.replicas={topic.get('min_insync')}"
            )
    return res


def recovered(applied: Sequence[Applied], bounds: Bounds) -> Result:
    res = Result(
        "recovery",
        f"after each fault heals, every affected service makes progress within "
        f"{bounds.progress_s:.0f}s and is back to {bounds.ratio:.0%} of its warm-up throughput "
        f"(over {bounds.window_s}s) within {bounds.throughput_s:.0f}s",
    )
    for a in applied:
        for r in a.recovery:
            res.checked += 1
            if not r.within(bounds):
                res.fail(
                    f"{a.fault.describe()}: {r.service} progress after {r.progress_s}s, "
                    f"throughput back after {r.throughput_s}s (best {r.best_ratio:.0%} of "
                    f"{r.baseline_per_s:.1f}/s)"
                )
    return res


def deals_complete(facts: dict[str, Any]) -> Result:
    res = Result(
        "deals_complete",
        "every deal the driver started reached its expected end (no accepted event lost on the "
        "way, as a user sees it)",
    )
    res.checked = int(facts.get("deals", 0))
    if facts.get("incomplete_deals", 0):
        res.fail(
            f"{facts['incomplete_deals']} deals incomplete: {facts.get('stuck_deals', [])[:5]}"
        )
    # A refused command ends its deal early (the driver stops there), so a refusal is never a
    # complete deal: only the loser of a race may be refused (counted apart by the driver).
    refused = facts.get("driver_refusals", 0)
    if refused:
        res.fail(f"{refused} of the load's commands were refused: {facts.get('refusals', {})}")
    return res


def run_checks(
    invariants: list[Result],
    applied: Sequence[Applied],
    facts: dict[str, Any],
    bounds: Bounds,
    schedule: Sequence[Fault],
) -> list[Result]:
    return [
        faults_applied(applied, schedule),
        deals_complete(facts),
        *invariants,
        recovered(applied, bounds),
    ]
