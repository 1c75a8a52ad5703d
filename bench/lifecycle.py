"""Measurements 3 and 4: the whole lifecycle through the four workers, and their memory.

The four workers start once (`salesflow worker lead|quote|order|invoice`, one process each,
production defaults but a clock tick every `TICK_SECONDS`), the sample price list is loaded, a
short warm-up runs and is discarded. Then, each run with fresh deal ids and the demo driver's
deal mix (bench/loadgen.py):

- capacity: closed loop, at most `in_flight` deals open at a time, for `probe_s` seconds.
  Deals per second = deals completed between 30 % of the run and the end of the feed, divided
  by that window; in a closed loop that is what the pipeline carries when it is never idle;
- fixed offered rates at fractions of the measured capacity (a quarter, half, 90 %), open loop,
  for `run_s` seconds: deals per second completed in the same window, whether the pipeline
  kept up (every deal finished within `grace_s` after the last lead and the rate held at
  >= 95 % of the offered rate), lead.captured -> invoice.posted latency percentiles over every
  deal of the run that reached an invoice, and the cores the whole machine used;
- a trickle: 1 deal/s, open loop, for `trickle_s` seconds: the latency of an idle pipeline.

A deal is complete when every event its decisions lead to was seen (see bench/loadgen.py).
Memory: the RSS of each worker process is sampled every second for the whole phase.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import profiling
from bench.backlog import settle
from bench.loadgen import LoadGenerator, LoadResult, build_leads, new_run_id
from bench.machine import CpuAccount
from bench.memory import MemorySampler
from bench.processes import Children, WorkerChild
from bench.stats import percentile, spread
from contracts.stages import SERVICES, STAGE_NAMES
from salesflow.catalog import load_price_list, wait_until_quote_svc_holds

WINDOW_FROM = 0.3
TRICKLE_RATE = 1.0  # deals per second: the "trickle"


# Every worker sends the clock tick of each period itself (SALESFLOW_TICK_SECONDS, production
# default an hour); in the benchmark every few seconds, so that each run carries ticks through
# quote_svc, order_svc and invoice_svc and their time rules (quote expiry, dunning, stale
# hand-offs) look for work as of each one, as they do in production once an hour.
TICK_SECONDS = 5


async def start_workers(children: Children, tag: str = "") -> dict[str, WorkerChild]:
    ticks = {"SALESFLOW_TICK_SECONDS": str(TICK_SECONDS)}
    workers = {stage: children.worker(stage, tag=tag, **ticks) for stage in STAGE_NAMES}
    await asyncio.gather(*(w.wait_ready() for w in workers.values()))
    return workers


async def load_prices(bootstrap: str, database_url: str, repo: Path) -> None:
    """Publish the sample price list and wait until quote_svc holds it."""
    items = await load_price_list(bootstrap, repo / "samples" / "price_list.csv")
    await wait_until_quote_svc_holds(database_url, items)


def summarise(r: LoadResult, *, grace_s: float) -> dict[str, Any]:
    fed = max(r.feed_ended - r.feed_started, 1e-6)
    start = r.feed_started + WINDOW_FROM * fed
    window = max(r.feed_ended - start, 1e-6)
    in_window = sum(1 for t in r.done_times if start <= t <= r.feed_ended)
    rate = in_window / window
    last_done = max(r.done_times) if r.done_times else r.feed_ended
    lat = r.latencies_ms
    complete = r.completed == r.published
    kept_up = (
        complete
        and last_done - r.feed_ended <= grace_s
        and (not r.offered_rate or rate >= 0.95 * r.offered_rate)
    )
    return {
        "offered_rate": r.offered_rate or None,
        "max_in_flight": r.max_in_flight or None,
        "seconds_fed": round(fed, 1),
        "deals_published": r.published,
        "deals_completed": r.completed,
        "deals_per_s": round(rate, 1),
        "drain_after_feed_s": round(last_done - r.feed_ended, 2),
        "kept_up": kept_up,
        "invoices": len(lat),
        "latency_ms": {
            "p50": round(percentile(lat, 50), 1) if lat else None,
            "p95": round(percentile(lat, 95), 1) if lat else None,
            "p99": round(percentile(lat, 99), 1) if lat else None,
            "max": round(max(lat), 1) if lat else None,
        },
        "hops_ms": {
            hop: {
                "p50": round(percentile(values, 50), 1),
                "p99": round(percentile(values, 99), 1),
            }
            for hop, values in r.hops_ms.items()
        },
        "load_generator_cpu_cores": round(r.cpu_seconds / max(r.ended - r.feed_started, 1e-6), 2),
        "counts": dict(sorted(r.counts.items())),
        "stuck": r.stuck[:5],
    }


async def one_run(
    *,
    bootstrap: str,
    workers: dict[str, WorkerChild],
    rate: float,
    seconds: float,
    in_flight: int,
    seed: int,
    lead_pool: int,
    grace_s: float,
    infra_ports: tuple[int, int],
) -> dict[str, Any]:
    # Every run starts with an empty pipeline: the previous run's stragglers are consumed.
    leftover = await settle(bootstrap, SERVICES, 60.0)
    run_id = new_run_id()
    leads = build_leads(lead_pool, seed=seed, run_id=run_id)
    gen = LoadGenerator(
        bootstrap,
        leads,
        rate=rate,
        duration_s=seconds,
        seed=seed,
        max_in_flight=in_flight,
        idle_timeout_s=max(20.0, grace_s * 2),
    )
    cpu = CpuAccount(
        {f"{s}_svc": w.pid for s, w in workers.items()},
        kafka_port=infra_ports[0],
        postgres_port=infra_ports[1],
    )
    before = cpu.snapshot()
    result = await gen.run()
    after = cpu.snapshot()
    summary = summarise(result, grace_s=grace_s)
    summary["run_id"] = run_id
    summary["cpu_cores"] = CpuAccount.usage(before, after)
    summary["pool_exhausted"] = result.published >= lead_pool
    summary["lag_at_start"] = leftover
    return summary


async def run(
    *,
    bootstrap: str,
    database_url: str,
    repo: Path,
    children: Children,
    probe_s: float,
    run_s: float,
    repetitions: int,
    in_flight: int,
    grace_s: float,
    seed: int,
    infra_ports: tuple[int, int],
    say: Callable[[str], None],
    levels: tuple[tuple[str, float], ...] = (("half", 0.5), ("near_max", 0.9)),
    trickle_s: float = 0.0,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    workers = await start_workers(children, tag="-e2e")
    sampler = MemorySampler(list(workers.values()), interval_s=1.0).start()
    phase_started = time.monotonic()
    try:
        await load_prices(bootstrap, database_url, repo)
        drained = await settle(bootstrap, SERVICES, 300.0)
        if any(drained.values()):
            say(f"  drained foreign backlogs first: {drained}")
        warm = await one_run(
            bootstrap=bootstrap,
            workers=workers,
            rate=100,
            seconds=5,
            in_flight=0,
            seed=seed,
            lead_pool=500,
            grace_s=grace_s,
            infra_ports=infra_ports,
        )
        say(f"  warm-up: {warm['deals_completed']}/{warm['deals_published']} deals")

        probes = []
        sampled: dict[str, Any] | None = None
        for rep in range(repetitions):
            sampling = None
            if rep == 0 and profile_dir is not None:
                # py-spy on every worker for the first capacity run (bench.profiling)
                pids = {f"{s}_svc": w.pid for s, w in workers.items()}
                sampling = asyncio.create_task(profiling.record(pids, probe_s, profile_dir))
            probe = await one_run(
                bootstrap=bootstrap,
                workers=workers,
                rate=0,
                seconds=probe_s,
                in_flight=in_flight,
                seed=seed + 100 + rep,
                lead_pool=int(in_flight + 3000 * probe_s),
                grace_s=grace_s,
                infra_ports=infra_ports,
            )
            probes.append(probe)
            say(
                f"  capacity run {rep + 1}/{repetitions}: {probe['deals_per_s']:.0f} deals/s "
                f"(closed loop, {in_flight} in flight; p99 {probe['latency_ms']['p99']} ms; "
                f"load generator {probe['load_generator_cpu_cores']} cores)"
            )
            if sampling is not None:
                sampled = await sampling
                for service, summary in sampled.items():
                    say(f"  profile {service}: {profiling.headline(summary)}")
        capacity = spread([p["deals_per_s"] for p in probes])
        measured: dict[str, Any] = {}
        for name, fraction in levels:
            rate = max(10.0, round(float(capacity["median"] or 0) * fraction / 10) * 10)
            runs = []
            for rep in range(repetitions):
                result = await one_run(
                    bootstrap=bootstrap,
                    workers=workers,
                    rate=rate,
                    seconds=run_s,
                    in_flight=0,
                    seed=seed + 200 + rep,
                    lead_pool=int(rate * run_s) + 10,
                    grace_s=grace_s,
                    infra_ports=infra_ports,
                )
                runs.append(result)
                lat = result["latency_ms"]
                say(
                    f"  {name} ({rate:.0f} deals/s offered) run {rep + 1}/{repetitions}: "
                    f"{result['deals_per_s']:.0f} deals/s, p50/p95/p99 "
                    f"{lat['p50']}/{lat['p95']}/{lat['p99']} ms, kept up: {result['kept_up']}"
                )
            measured[name] = _level(rate, runs)
        if trickle_s:
            trickle = await one_run(
                bootstrap=bootstrap,
                workers=workers,
                rate=TRICKLE_RATE,
                seconds=trickle_s,
                in_flight=0,
                seed=seed + 500,
                lead_pool=int(TRICKLE_RATE * trickle_s) + 10,
                grace_s=grace_s,
                infra_ports=infra_ports,
            )
            lat = trickle["latency_ms"]
            say(
                f"  trickle ({TRICKLE_RATE:.0f} deal/s offered, {trickle_s:.0f} s): "
                f"{trickle['deals_completed']} deals, p50/p95/p99 "
                f"{lat['p50']}/{lat['p95']}/{lat['p99']} ms"
            )
            measured["trickle"] = _level(TRICKLE_RATE, [trickle])
    finally:
        await sampler.stop()
        phase_s = time.monotonic() - phase_started
        counters = {stage: _counters(w) for stage, w in workers.items()}
        await asyncio.gather(*(w.stop() for w in workers.values()))
    return {
        # the workers' own setting (the `settings` of the result are the benchmark's)
        "worker_tick_seconds": TICK_SECONDS,
        "foreign_backlog_drained_first": drained,
        "warmup": warm,
        "capacity": {"deals_per_s": capacity, "in_flight": in_flight, "runs": probes},
        "levels": measured,
        "memory": sampler.summaries(warmup_s=min(60.0, phase_s / 3)),
        "worker_counters": counters,
        "profile": sampled,
    }


def _level(rate: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "offered_rate": rate,
        "deals_per_s": spread([r["deals_per_s"] for r in runs]),
        "p50_ms": spread([r["latency_ms"]["p50"] or 0 for r in runs]),
        "p95_ms": spread([r["latency_ms"]["p95"] or 0 for r in runs]),
        "p99_ms": spread([r["latency_ms"]["p99"] or 0 for r in runs]),
        "kept_up": [r["kept_up"] for r in runs],
        # the whole machine (every party and everything else), in cores
        "machine_cores": spread([r["cpu_cores"]["machine"] for r in runs]),
        "runs": runs,
    }


def _counters(worker: WorkerChild) -> dict[str, Any]:
    batches = worker.metric("salesflow_batch_size_count")
    records = worker.metric("salesflow_batch_size_sum")
    seconds = worker.metric("salesflow_batch_seconds_sum")
    return {
        "processed": worker.metric("salesflow_messages_processed_total"),
        "published": worker.metric("salesflow_outbox_published_total"),
        "batches": batches,
        "mean_batch_records": round(records / batches, 1) if batches else None,
        "mean_batch_ms": round(seconds / batches * 1000, 1) if batches else None,
        "dead_lettered": worker.metric("salesflow_messages_dead_lettered_total"),
        "rejected": worker.metric("salesflow_commands_rejected_total"),
    }


async def soak(
    *,
    bootstrap: str,
    database_url: str,
    repo: Path,
    children: Children,
    seconds: float,
    rate: float,
    in_flight: int,
    grace_s: float,
    seed: int,
    infra_ports: tuple[int, int],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """One long run at a fixed rate (half the capacity measured first, unless given) while the
    workers' RSS is sampled every 5 s."""
    workers = await start_workers(children, tag="-soak")
    sampler = MemorySampler(list(workers.values()), interval_s=5.0).start()
    try:
        await load_prices(bootstrap, database_url, repo)
        probe = None
        if not rate:
            probe = await one_run(
                bootstrap=bootstrap,
                workers=workers,
                rate=0,
                seconds=15,
                in_flight=in_flight,
                seed=seed + 300,
                lead_pool=int(in_flight + 3000 * 15),
                grace_s=grace_s,
                infra_ports=infra_ports,
            )
            rate = max(10.0, round(probe["deals_per_s"] * 0.5 / 10) * 10)
            say(f"  capacity {probe['deals_per_s']:.0f} deals/s: soaking at {rate:.0f} deals/s")
        # Consecutive one-minute runs (fresh deal ids each) rather than one long one: leads are
        # built before each run starts, and a per-minute series shows any drift in rate or
        # latency next to the memory series.
        minutes = []
        for minute in range(max(1, round(seconds / 60))):
            result = await one_run(
                bootstrap=bootstrap,
                workers=workers,
                rate=rate,
                seconds=60,
                in_flight=0,
                seed=seed + 400 + minute,
                lead_pool=int(rate * 60) + 10,
                grace_s=grace_s,
                infra_ports=infra_ports,
            )
            minutes.append(result)
            rss = ", ".join(
                f"{name} {s.samples[-1][1] / 1024:.0f}"
                for name, s in sampler.series.items()
                if s.samples
            )
            say(
                f"  minute {minute + 1}: {result['deals_per_s']:.0f} deals/s, "
                f"p99 {result['latency_ms']['p99']} ms, kept up: {result['kept_up']}; RSS MB {rss}"
            )
        lat = [m["latency_ms"]["p99"] or 0 for m in minutes]
        run = {
            "offered_rate": rate,
            "seconds_fed": sum(m["seconds_fed"] for m in minutes),
            "deals_per_s": spread([m["deals_per_s"] for m in minutes])["median"],
            "latency_ms": {"p99": spread(lat)["median"], "p99_per_minute": lat},
            "kept_up": all(m["kept_up"] for m in minutes),
            "minutes": minutes,
        }
    finally:
        await sampler.stop()
        await asyncio.gather(*(w.stop() for w in workers.values()))
    return {"probe": probe, "run": run, "memory": sampler.summaries(warmup_s=60.0)}
