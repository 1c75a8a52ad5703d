"""Measurements 1, 2 and 2b: the raw pass-through baseline against one stage started cold on the
same records (lead_svc on `lead.captured`, order_svc on `quote.accepted`), and the fit of a
worker's CPU against its batch size.

Per repetition and stage, with fresh deal ids: N input records are built (`Stage.build`), then

- baseline: the N records are preloaded to `bench.passthrough.in`; `python -m bench
  passthrough` is started; the interval runs from its partition assignment to the moment the
  observer has seen the N keys on `bench.passthrough.out`;
- stage: the same N records (same bytes) are preloaded to the stage's input topic; `salesflow
  worker <stage>` is started; the interval runs from its partition assignment (its own
  `partitions_assigned` log line) to the moment the observer has seen an outcome of the stage
  (`Stage.outcomes`, a dead letter included) for each of the N deal ids.

Throughput is N divided by that interval. Both start cold (a fresh process) and are timed
from the same event by the same observer, so the ratio compares like with like. The worker's
start-up (migrations check, topics, group join) is reported apart, not in the rate.

The fit (bench/cpu_fit.py): the first stage is run again at smaller maximum batch sizes
(`SALESFLOW_BATCH_MAX_RECORDS`); every run at every size gives the worker's CPU over the
interval (/proc) and the batches and records its counters saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench import kafka_io
from bench.accepted_quotes import build_accepted_quotes
from bench.backlog import inputs, settle
from bench.cpu_fit import fit_batch_cost
from bench.kafka_io import BASELINE_GROUP, BASELINE_IN, BASELINE_OUT, KeyObserver, Record
from bench.loadgen import build_leads, new_run_id
from bench.machine import CpuAccount
from bench.processes import Child, Children, WorkerChild
from bench.stats import spread


@dataclass(frozen=True)
class Stage:
    """A stage measured alone: its worker, the input it is preloaded with, what counts as an
    outcome, and the group downstream that must not start the next phase with its outcomes."""

    stage: str  # `salesflow worker <stage>`
    service: str
    input_topic: str
    outcomes: tuple[str, ...]
    build: Callable[[int, int, str], list[Record]]  # (count, seed, run_id) -> records
    downstream: tuple[str, str]  # (group, topic): skipped past this phase's own outcomes


def _leads(count: int, seed: int, run_id: str) -> list[Record]:
    return [lead.record for lead in build_leads(count, seed=seed, run_id=run_id)]


def _quotes(count: int, seed: int, run_id: str) -> list[Record]:
    return build_accepted_quotes(count, seed=seed, run_id=run_id)


STAGES = (
    Stage(
        "lead",
        "lead_svc",
        "lead.captured",
        ("lead.qualified", "lead.disqualified", "lead.rejected", "lead_svc.dlq"),
        _leads,
        ("quote_svc", "lead.qualified"),
    ),
    # A heavier decision: numbering (the year's counter), the order and its lines, billing terms.
    Stage(
        "order",
        "order_svc",
        "quote.accepted",
        ("order.confirmed", "order.rejected", "order_svc.dlq"),
        _quotes,
        ("invoice_svc", "order.confirmed"),
    ),
)


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
        await asyncio.sleep(0.005)  # the CPU of the interval is read from here on
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
        before, process_before = cpu.snapshot(), child.cpu_seconds()
        complete = await observer.wait_for(count, timeout_s)
        after, process_after = cpu.snapshot(), child.cpu_seconds()
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
        # user + system CPU of the consumer process over the interval (/proc/<pid>/stat)
        "process_cpu_s": round(process_after - process_before, 3),
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
    stages: tuple[Stage, ...] = STAGES,
    fit_batch_sizes: tuple[int, ...] = (),
    default_batch: int = 500,
) -> dict[str, Any]:
    """Each stage against the baseline on the same records, `repetitions` times (alternating),
    then the first stage again at each of `fit_batch_sizes` for the fit of its CPU against the
    batch size (the runs at `default_batch` count as points of the fit too)."""
    await kafka_io.ensure_bench_topics(bootstrap)
    since = {s.stage: await kafka_io.end_offsets(bootstrap, s.downstream[1]) for s in stages}
    runs: dict[str, list[dict[str, Any]]] = {s.stage: [] for s in stages}
    for rep in range(repetitions):
        for spec in stages:
            one = await _compare(
                bootstrap, children, spec, messages, seed + rep, f"-{rep}", timeout_s, infra_ports
            )
            runs[spec.stage].append(one)
            backlog = one["stage"]["foreign_backlog_drained_first"]
            say(
                f"  run {rep + 1}/{repetitions}: baseline {one['baseline']['msgs_per_s']:.0f} "
                f"msg/s, {spec.service} {one['stage']['msgs_per_s']:.0f} msg/s, "
                f"ratio {one['ratio']:.2f}" + (f" (foreign backlog {backlog})" if backlog else "")
            )
    fit_points = [
        _fit_point(r["stage"], default_batch) for r in runs[stages[0].stage] if r["stage"]
    ]
    for size in fit_batch_sizes:
        stage, _ = await _stage_run(
            bootstrap,
            children,
            stages[0],
            _records(stages[0], messages, seed, new_run_id()),
            f"-batch{size}",
            timeout_s,
            infra_ports,
            batch_max_records=size,
        )
        point = _fit_point(stage, size)
        fit_points.append(point)
        runs.setdefault("fit", []).append({"run_id": stage["run_id"], "stage": stage})
        say(
            f"  {stages[0].service} at batches of {size}: {point['batches']:.0f} batches, "
            f"{point['cpu_s']:.2f} s CPU for {point['messages']:.0f} messages"
        )
    out: dict[str, Any] = {"messages": messages, "stages": {}}
    for spec in stages:
        mine = runs[spec.stage]
        prefixes = tuple(f"deal-{r['run_id']}-".encode() for r in mine)
        if spec is stages[0]:
            prefixes += tuple(f"deal-{r['run_id']}-".encode() for r in runs.get("fit", []))
        group, _ = spec.downstream
        skipped = await kafka_io.skip_own_records(bootstrap, group, since[spec.stage], prefixes)
        if skipped:
            say(f"  {group} moved past this phase's {skipped} {spec.downstream[1]} (nobody else's)")
        out["stages"][spec.stage] = {
            "service": spec.service,
            "input": spec.input_topic,
            "downstream_skipped_own_outcomes": skipped,
            "runs": mine,
            "baseline_msgs_per_s": spread([r["baseline"]["msgs_per_s"] for r in mine]),
            "stage_msgs_per_s": spread([r["stage"]["msgs_per_s"] for r in mine]),
            "ratio": spread([r["ratio"] for r in mine]),
            "stage_startup_s": spread([r["stage"]["startup_s"] for r in mine]),
            "mean_message_bytes": mine[0]["mean_message_bytes"] if mine else None,
        }
    out["cpu_fit"] = {
        "service": stages[0].service,
        "points": fit_points,
        **fit_batch_cost(
            [(p["batches"], p["messages"], p["cpu_s"]) for p in fit_points], at_batch=default_batch
        ),
        "fit_runs": runs.get("fit", []),
    }
    return out


def _records(spec: Stage, count: int, seed: int, run_id: str) -> tuple[str, list[Record]]:
    return run_id, spec.build(count, seed, run_id)


def _fit_point(stage: dict[str, Any], batch_max: int) -> dict[str, Any]:
    """One point of the fit: batches and messages the worker handled (its own counters), the
    CPU it used while doing so."""
    return {
        "batch_max_records": batch_max,
        "batches": stage["batches"],
        "messages": stage["records_in_batches"],
        "cpu_s": stage["process_cpu_s"],
        "mean_batch_records": stage["mean_batch_records"],
    }


async def _compare(
    bootstrap: str,
    children: Children,
    spec: Stage,
    messages: int,
    seed: int,
    tag: str,
    timeout_s: float,
    infra_ports: tuple[int, int],
) -> dict[str, Any]:
    """The baseline, then the stage, on the same N records (the same bytes)."""
    run_id, records = _records(spec, messages, seed, new_run_id())
    await kafka_io.commit_to_end(bootstrap, BASELINE_GROUP, [BASELINE_IN])
    await kafka_io.publish(bootstrap, BASELINE_IN, records)
    baseline, child = await _timed(
        bootstrap,
        lambda: children.python(
            f"passthrough-{spec.stage}{tag}",
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
        f"deal-{run_id}-",
        messages,
        timeout_s,
        infra_ports,
    )
    await child.stop()
    stage, run_id = await _stage_run(
        bootstrap, children, spec, (run_id, records), tag, timeout_s, infra_ports
    )
    ratio = stage["msgs_per_s"] / baseline["msgs_per_s"] if baseline["msgs_per_s"] else 0.0
    return {
        "run_id": run_id,
        "mean_message_bytes": round(sum(len(r.value) for r in records) / len(records)),
        "baseline": baseline,
        "stage": stage,
        "ratio": round(ratio, 3),
    }


async def _stage_run(
    bootstrap: str,
    children: Children,
    spec: Stage,
    prepared: tuple[str, list[Record]],
    tag: str,
    timeout_s: float,
    infra_ports: tuple[int, int],
    *,
    batch_max_records: int | None = None,
) -> tuple[dict[str, Any], str]:
    """The stage's worker started cold on the preloaded records, timed like the baseline."""
    run_id, records = prepared
    backlog = await kafka_io.group_lag(bootstrap, spec.service, inputs(spec.service))
    if backlog:
        # Someone else's records wait for the group: let a worker take them first, so the
        # measured worker reads only this run's records.
        drainer = children.worker(spec.stage, tag=f"-drain{tag}")
        await drainer.wait_ready()
        await settle(bootstrap, (spec.service,), 300.0)
        await drainer.stop()
    await kafka_io.publish(bootstrap, spec.input_topic, records)
    env = {"SALESFLOW_BATCH_MAX_RECORDS": str(batch_max_records)} if batch_max_records else {}
    stage, worker = await _timed(
        bootstrap,
        lambda: children.worker(spec.stage, tag=f"-stage{tag}", **env),
        spec.outcomes,
        f"deal-{run_id}-",
        len(records),
        timeout_s,
        infra_ports,
    )
    stage["run_id"] = run_id
    stage["foreign_backlog_drained_first"] = backlog
    stage["batch_max_records"] = batch_max_records
    assert isinstance(worker, WorkerChild)
    stage.update(_worker_counters(worker))
    await worker.stop()
    return stage, run_id


def _worker_counters(worker: WorkerChild) -> dict[str, Any]:
    batches = worker.metric("salesflow_batch_size_count")
    records = worker.metric("salesflow_batch_size_sum")
    return {
        "processed_total": worker.metric("salesflow_messages_processed_total"),
        "batches": batches,
        "records_in_batches": records,
        "mean_batch_records": round(records / batches, 1) if batches else None,
        "published_total": worker.metric("salesflow_outbox_published_total"),
    }
