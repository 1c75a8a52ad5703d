"""Measurements 1 and 2: the raw pass-through baseline and lead_svc, cold, on the same records.

Per repetition, with fresh deal ids: N `lead.captured` envelopes are built by the load
generator, then

- baseline: the N records are preloaded to `bench.passthrough.in`; `python -m bench
  passthrough` is started; the interval runs from its partition assignment to the moment the
  observer has seen the N keys on `bench.passthrough.out`;
- stage: the same N records (same bytes) are preloaded to `lead.captured`; `salesflow worker
  lead` is started; the interval runs from its partition assignment (its own
  `partitions_assigned` log line) to the moment the observer has seen an outcome
  (`lead.qualified`, `lead.disqualified`, `lead.rejected` or a dead letter) for each of the N
  deal ids.

Throughput is N divided by that interval. Both start cold (a fresh process) and are timed
from the same event by the same observer, so the ratio compares like with like. The worker's
start-up (migrations check, topics, group join) is reported apart, not in the rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench import kafka_io
from bench.backlog import settle
from bench.kafka_io import BASELINE_GROUP, BASELINE_IN, BASELINE_OUT, KeyObserver
from bench.loadgen import build_leads, new_run_id
from bench.machine import CpuAccount
from bench.processes import Child, Children, WorkerChild
from bench.stats import spread

LEAD_OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.rejected", "lead_svc.dlq")
LEAD_INPUTS = ("lead.captured", "lead.commands")


def _assigned_at(log_path: Path) -> float | None:
    """Wall-clock time of the first `partitions_assigned` line of a child's log, if any."""
    try:
        lines = log_path.read_bytes().splitlines()
    except OSError:
        return None
    for line in lines:
        if b"partitions_assigned" not in line:
            continue
        try:
            stamp = orjson.loads(line)["timestamp"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        return datetime.fromisoformat(stamp).timestamp()
    return None


async def _wait_assigned(child: Child, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at = _assigned_at(child.log_path)
        if at is not None:
            return at
        if not child.alive:
            raise RuntimeError(f"{child.name} exited before joining its group:\n{child.tail()}")
        await asyncio.sleep(0.02)
    raise RuntimeError(f"{child.name} did not join its group in {timeout_s}s:\n{child.tail()}")


def _wall_to_monotonic(wall: float) -> float:
    return wall - (time.time() - time.monotonic())


async def _timed(
    bootstrap: str,
    start: Callable[[], Child],
    topics: tuple[str, ...],
    prefix: str,
    count: int,
    timeout_s: float,
    infra_ports: tuple[int, int],
) -> tuple[dict[str, Any], Child]:
    """Start a consumer process and time it from its assignment to the last of `count` keys."""
    observer = KeyObserver(bootstrap, topics, prefix.encode())
    try:
        await observer.start()
        child = start()
        assigned_wall = await _wait_assigned(child, 120.0)
        cpu = CpuAccount(
            {child.name: child.pid}, kafka_port=infra_ports[0], postgres_port=infra_ports[1]
        )
        before = cpu.snapshot()
        complete = await observer.wait_for(count, timeout_s)
        after = cpu.snapshot()
    finally:
        await observer.stop()
    assigned = _wall_to_monotonic(assigned_wall)
    seen = sorted(observer.first_seen.values())
    last = seen[-1] if seen else time.monotonic()
    seconds = max(last - assigned, 1e-6)
    return {
        "messages": count,
        "outcomes_seen": len(seen),
        "complete": complete,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(len(seen) / seconds, 1),
        "startup_s": round(assigned - child.started_at, 2),
        "first_outcome_after_s": round(seen[0] - assigned, 3) if seen else None,
        "cpu_cores": CpuAccount.usage(before, after),
    }, child


async def run(
    *,
    bootstrap: str,
    children: Children,
    messages: int,
    repetitions: int,
    seed: int,
    timeout_s: float,
    infra_ports: tuple[int, int],
    say: Callable[[str], None],
) -> dict[str, Any]:
    await kafka_io.ensure_bench_topics(bootstrap)
    qualified_before = await kafka_io.end_offsets(bootstrap, "lead.qualified")
    runs: list[dict[str, Any]] = []
    for rep in range(repetitions):
        run_id = new_run_id()
        leads = build_leads(messages, seed=seed + rep, run_id=run_id)
        records = [lead.record for lead in leads]
        prefix = f"deal-{run_id}-"
        size = sum(len(r.value) for r in records) / len(records)

        await kafka_io.commit_to_end(bootstrap, BASELINE_GROUP, [BASELINE_IN])
        await kafka_io.publish(bootstrap, BASELINE_IN, records)
        baseline, child = await _timed(
            bootstrap,
            lambda rep=rep: children.python(  # type: ignore[misc]
                f"passthrough-{rep}",
                "-m",
                "bench",
                "passthrough",
                "--bootstrap",
                bootstrap,
                "--source",
                BASELINE_IN,
                "--target",
                BASELINE_OUT,
                "--group",
                BASELINE_GROUP,
            ),
            (BASELINE_OUT,),
            prefix,
            messages,
            timeout_s,
            infra_ports,
        )
        await child.stop()

        backlog = await kafka_io.group_lag(bootstrap, "lead_svc", LEAD_INPUTS)
        if backlog:
            # Someone else's records wait for lead_svc: let a worker take them first, so the
            # measured worker reads only this run's records.
            say(f"  draining a foreign backlog of {backlog} records first")
            drainer = children.worker("lead", tag=f"-drain-{rep}")
            await drainer.wait_ready()
            await settle(bootstrap, ("lead_svc",), 300.0)
            await drainer.stop()
        await kafka_io.publish(bootstrap, "lead.captured", records)
        stage, worker = await _timed(
            bootstrap,
            lambda rep=rep: children.worker("lead", tag=f"-stage-{rep}"),  # type: ignore[misc]
            LEAD_OUTCOMES,
            prefix,
            messages,
            timeout_s,
            infra_ports,
        )
        stage["foreign_backlog_drained_first"] = backlog
        assert isinstance(worker, WorkerChild)
        stage.update(_worker_counters(worker))
        await worker.stop()
        ratio = stage["msgs_per_s"] / baseline["msgs_per_s"] if baseline["msgs_per_s"] else 0.0
        runs.append(
            {
                "run_id": run_id,
                "mean_message_bytes": round(size),
                "baseline": baseline,
                "stage": stage,
                "ratio": round(ratio, 3),
            }
        )
        say(
            f"  run {rep + 1}/{repetitions}: baseline {baseline['msgs_per_s']:.0f} msg/s, "
            f"lead_svc {stage['msgs_per_s']:.0f} msg/s, ratio {ratio:.2f}"
            + (f" (foreign backlog {backlog})" if backlog else "")
        )
    skipped = await kafka_io.skip_own_records(
        bootstrap,
        "quote_svc",
        qualified_before,
        tuple(f"deal-{r['run_id']}-".encode() for r in runs),
    )
    if skipped:
        say(f"  quote_svc moved past this phase's {skipped} lead.qualified (nobody else's)")
    return {
        "messages": messages,
        "quote_svc_skipped_own_outcomes": skipped,
        "runs": runs,
        "baseline_msgs_per_s": spread([r["baseline"]["msgs_per_s"] for r in runs]),
        "stage_msgs_per_s": spread([r["stage"]["msgs_per_s"] for r in runs]),
        "ratio": spread([r["ratio"] for r in runs]),
        "stage_startup_s": spread([r["stage"]["startup_s"] for r in runs]),
    }


def _worker_counters(worker: WorkerChild) -> dict[str, Any]:
    batches = worker.metric("salesflow_batch_size_count")
    records = worker.metric("salesflow_batch_size_sum")
    return {
        "processed_total": worker.metric("salesflow_messages_processed_total"),
        "batches": batches,
        "mean_batch_records": round(records / batches, 1) if batches else None,
        "published_total": worker.metric("salesflow_outbox_published_total"),
    }
