"""One chaos run: workers up, steady load, the seeded faults one by one, quiescence, the verdict.

    prepare   migrate, create topics, start the four workers, load the price list
    load      the lifecycle driver at `rate` deals/s for `duration` s (and until every deal ends)
    faults    at their planned times, one at a time (or two at once, when the schedule lets one
              start during the other); after each heal, wait until every affected service made
              progress and is back to `ratio` x its warm-up throughput (or the bounds passed),
              then go on
    quiesce   load done, every consumer group's lag 0, every outbox empty
    verdict   read everything the run published and committed, check the invariants, report

Whatever happens, nothing it started outlives it: workers are stopped, a server a fault left
down is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiokafka import TopicPartition

from chaos import archive
from chaos import faults as fault_kinds
from chaos.checker import Result
from chaos.cluster_faults import replication
from chaos.db import outbox_rows, read_db, seen_event_ids, worker_connections
from chaos.faults import Applied, FaultContext
from chaos.fleet import Fleet
from chaos.history import History, end_offsets, event_ids, read_records
from chaos.infra import REPO, Endpoints, InfraControl, SetupError
from chaos.lag import group_lags
from chaos.netfaults import FaultProxy
from chaos.recovery import Bounds, Heals, baseline, measure_all, settled
from chaos.schedule import (
    CLUSTER_KINDS,
    DEDUPE_KINDS,
    INFRA_KINDS,
    NET_KINDS,
    OVERLAP,
    Fault,
    build_schedule,
)
from chaos.time_jump import TICK_PERIOD_S, candidate_ids, jump_target, latest_tick
from chaos.verdict import check, isolated, replicated, run_checks
from contracts.stages import SERVICES, STAGE_NAMES
from contracts.topics import ALL_TOPICS, consumed_by
from salesflow.catalog import load_price_list, wait_until_quote_svc_holds
from shared.migrations import upgrade_async
from shared.ticker import publish_tick
from shared.topics_admin import apply_configs, ensure_topics
from simulator.driver import Behaviour, LifecycleDriver

log = structlog.stdlib.get_logger("chaos.harness")
PRICE_LIST = REPO / "samples" / "price_list.csv"
OPEN_ENDED = 10**9  # leads: the harness calls stop_feeding() when the load has done its job
BASELINE_FROM_S = 8.0  # the pipeline has filled by then (lead -> invoice takes a few seconds)


@dataclass(frozen=True)
class RunConfig:
    seed: int
    duration_s: float
    kinds: tuple[str, ...]
    rate: float = 20.0
    warmup_s: float = 20.0
    recovery_window_s: float = 20.0
    bounds: Bounds = field(default_factory=Bounds)
    drain_timeout_s: float = 300.0
    report_dir: Path = REPO / ".local" / "chaos"
    command: str = ""
    keep_history: bool = False  # the history is always kept when the run fails
    members: int = 1  # processes per worker (2+: every stage runs as a consumer group)
    brokers: int = 1  # Kafka nodes infra/kafka.sh runs (3: the replicated cluster)
    invoice_mode: str = "native"  # invoice_svc's mode; external: the load plays the ERP


@dataclass
class RunOutcome:
    config: RunConfig
    run_id: str
    schedule: list[Fault]
    applied: list[Applied]
    results: list[Result]
    facts: dict[str, Any]
    started_at: str
    seconds: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def consumes() -> dict[str, tuple[str, ...]]:
    """service -> the topics its worker consumes (the topic map's readers)."""
    return {service: tuple(t.name for t in consumed_by(service)) for service in SERVICES}


def external_invoicing() -> bool:
    """Whether invoice_svc runs in external mode (the workers read the same variable)."""
    return os.environ.get("SALESFLOW_INVOICE_MODE", "native").lower() == "external"


async def refuse_foreign_workers(database_url: str) -> None:
    """Stop before starting anything when salesflow workers are connected to the run's database.

    Workers of another deployment (another Kafka, the same PostgreSQL) poll the same outbox
    tables: their relays take this run's committed rows, publish them to their own Kafka and
    delete them, and the run's events are lost for its own consumers (seed 20261205 on a
    cluster beside the single node's PostgreSQL, RELIABILITY.md)."""
    found = await worker_connections(database_url)
    if found:
        raise SetupError(
            f"salesflow workers are connected to this database already ({found}): their relays "
            "would publish this run's outbox rows to their own Kafka. Stop them, or give the "
            "run a PostgreSQL of its own (SALESFLOW_LOCAL_DIR with infra/up.sh)"
        )


async def _prepare(endpoints: Endpoints) -> None:
    await ensure_topics(
        endpoints.kafka, ALL_TOPICS, replication_factor=endpoints.replication_factor
    )
    # topics made before a change of their declared configuration (who stamps the records)
    await apply_configs(endpoints.kafka, ALL_TOPICS)
    for service in SERVICES:
        await upgrade_async(endpoints.database_url, service)


async def _wait_until(driver: LifecycleDriver, at_s: float, load: asyncio.Task[Any]) -> None:
    """Until `at_s` seconds into the load, or the load ended."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(load), timeout=max(0.0, at_s - driver.elapsed()))


async def _measure(
    ctx: FaultContext,
    applied: Applied,
    baselines: dict[str, float],
    config: RunConfig,
    from_s: float,
) -> None:
    """Wait until the affected services recovered after `from_s` (the heal, or the later heal
    of a fault active with this one) or the bounds passed; record the recovery."""
    applied.measured_from_s = from_s
    while True:
        now = ctx.now()
        recoveries = measure_all(
            ctx.driver.timeline, baselines, applied.services, from_s, now, config.bounds
        )
        if settled(recoveries, from_s, now, config.bounds):
            break
        await asyncio.sleep(1.0)
    applied.recovery = recoveries
    stage = applied.fault.stage
    before = applied.counters_before.get("dup", 0.0)
    # The batch committed before the crash comes back when the new process reaches its
    # partition: behind a backlog of the whole outage (36 partitions, fetched in turn) that took
    # over a minute on a loaded machine (seed 20261202, fault #14), so the wait is generous; it
    # ends as soon as a duplicate is dropped.
    patience = 180.0 if applied.fault.kind == "crash_after_db_commit" else 0.0
    deadline = time.monotonic() + patience
    while True:
        # Scraped here too: a worker busy with a backlog answers /metrics late.
        await asyncio.gather(*(w.scrape() for w in ctx.fleet.live.get(stage or "", [])))
        dropped = ctx.fleet.total("salesflow_duplicates_dropped_total", stage) - before
        if dropped > 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    applied.counters_after = {"dup": before + dropped}
    if applied.fault.kind == "crash_after_db_commit" and applied.ok and dropped <= 0:
        # The batch committed before the kill must come back, and the inbox must drop it.
        applied.ok = False
        applied.detail += "; but no redelivered duplicate was dropped afterwards"


async def _quiesce(
    endpoints: Endpoints, groups: dict[str, tuple[str, ...]], timeout_s: float
) -> tuple[dict[str, int], dict[str, int], float]:
    started = time.monotonic()
    lags: dict[str, int] = {}
    rows: dict[str, int] = {}
    while True:
        with contextlib.suppress(Exception):
            lags = await group_lags(endpoints.kafka, groups)
            rows = await outbox_rows(endpoints.database_url)
            if lags and not any(lags.values()) and not any(rows.values()):
                break
        if time.monotonic() - started > timeout_s:
            break
        await asyncio.sleep(2.0)
    return lags, rows, time.monotonic() - started


def _plan(config: RunConfig, endpoints: Endpoints, control: InfraControl | None) -> list[Fault]:
    schedule = build_schedule(
        config.seed,
        config.duration_s,
        list(config.kinds),
        warmup_s=config.warmup_s,
        recovery_window_s=config.recovery_window_s,
    )
    missing = set(config.kinds) - {f.kind for f in schedule} - {OVERLAP}
    if missing:
        raise SetupError(f"duration {config.duration_s}s is too short for {sorted(missing)}")
    if (INFRA_KINDS | CLUSTER_KINDS | NET_KINDS) & set(config.kinds):
        if control is None:
            raise SetupError("infrastructure faults requested but no infrastructure control")
        control.verify(endpoints)
    cluster_kinds = sorted(CLUSTER_KINDS & set(config.kinds))
    if cluster_kinds and control is not None and control.brokers < 3:
        raise SetupError(
            f"{cluster_kinds} need a three-broker cluster (SALESFLOW_KAFKA_BROKERS=3 infra/up.sh); "
            f"infra/kafka.sh runs {control.brokers}"
        )
    return schedule


async def _drive(
    ctx: FaultContext, schedule: list[Fault], config: RunConfig, facts: dict[str, Any]
) -> list[Applied]:
    """The load, with the faults applied one by one (a fault planned to overlap the one before
    starts while that one runs); returns when every deal has ended."""
    driver = ctx.driver
    load = asyncio.create_task(driver.run())
    first_fault = schedule[0].at_s if schedule else config.warmup_s
    await _wait_until(driver, first_fault, load)
    baselines = {
        service: baseline(driver.timeline.get(service, Counter()), BASELINE_FROM_S, first_fault)
        for service in SERVICES
    }
    facts["baseline_per_s"] = {k: round(v, 2) for k, v in baselines.items()}

    heals = Heals()

    async def one(fault: Fault, delay_s: float = 0.0) -> Applied:
        await asyncio.sleep(delay_s)
        heals.started(fault)
        try:
            done = await fault_kinds.apply(ctx, fault)
        except BaseException:
            heals.healed(fault, ctx.now())  # the fault active with it must not wait for ever
            raise
        heals.healed(fault, done.healed_s)
        from_s = await heals.measure_from(fault, done.healed_s)
        await _measure(ctx, done, baselines, config, from_s)
        return done

    applied: list[Applied] = []
    running: list[asyncio.Task[Applied]] = []
    started: dict[int, float] = {}
    try:
        for fault in schedule:
            if fault.overlaps is not None and fault.overlaps in started and running:
                # planned relative to the actual start of the fault it overlaps: a slow recovery
                # before may have moved that one later than planned
                at = started[fault.overlaps] + float(fault.params.get("overlap_after_s", 1.0))
                started[fault.index] = at
                running.append(asyncio.create_task(one(fault, max(0.0, at - ctx.now()))))
                continue
            if running:
                applied += [await task for task in running]
                running = []
                await asyncio.sleep(config.recovery_window_s / 4)
            await _wait_until(driver, fault.at_s, load)
            if load.done():  # the driver gave up (no progress for its idle timeout)
                break
            started[fault.index] = ctx.now()
            running.append(asyncio.create_task(one(fault)))
        applied += [await task for task in running]
        running = []
    finally:
        for task in running:
            task.cancel()
    facts["overlaps"] = overlaps(applied)
    # The load runs for the duration and, on a machine slow to recover, until the last fault's
    # recovery was measured under it; then no new deals, and the run waits for the open ones.
    await _wait_until(driver, config.duration_s, load)
    driver.stop_feeding()
    facts["load_seconds"] = round(driver.elapsed(), 1)
    funnel = await asyncio.wait_for(load, timeout=config.drain_timeout_s + 600)
    facts.update(
        funnel=funnel.render(),
        deals=len(driver.deals),
        incomplete_deals=funnel.incomplete,
        stuck_deals=funnel.stuck[:20],
        driver_refusals=funnel.counts.get("rejected", 0),
        refusals=dict(funnel.refusals),
        driver_redeliveries=driver.redeliveries,
        driver_send_retries=driver.send_retries,
        republished=ctx.republished,
    )
    return applied


def overlaps(applied: list[Applied]) -> list[dict[str, Any]]:
    """For each fault planned to start during another: whether it really did, and for how long
    the two were active together (a fault heals when the harness has undone it)."""
    by_index = {a.fault.index: a for a in applied}
    found = []
    for second in applied:
        first = by_index.get(second.fault.overlaps or -1)
        if first is None:
            continue
        together = min(first.healed_s, second.healed_s) - second.started_s
        found.append(
            {
                "fault": second.fault.describe(),
                "during": first.fault.describe(),
                "started_after_s": round(second.started_s - first.started_s, 1),
                "together_s": round(max(0.0, together), 1),
                "overlapped": together > 0,
            }
        )
    return found


async def _move_time(ctx: FaultContext, facts: dict[str, Any]) -> None:
    now, latest = datetime.now(UTC), await latest_tick(ctx.endpoints.kafka)
    first = jump_target(now, latest)
    seen = await seen_event_ids(ctx.endpoints.database_url, candidate_ids(first))
    at = jump_target(now, latest, seen)
    envelope = await publish_tick(ctx.endpoints.kafka, at, TICK_PERIOD_S)
    facts["time_moved_to"] = envelope.payload.at.isoformat()


async def _foreign_at_end(database_url: str) -> dict[str, int]:
    """Workers still connected once the run's own have exited: another deployment's (a backend
    may take a moment to notice its client left, hence the few tries)."""
    found: dict[str, int] = {}
    for _ in range(5):
        found = await worker_connections(database_url)
        if not found:
            break
        await asyncio.sleep(1.0)
    return found


async def _history(
    ctx: FaultContext,
    start_offsets: dict[TopicPartition, int],
    applied: list[Applied],
    config: RunConfig,
    facts: dict[str, Any],
) -> History:
    """Quiescence, then everything the run published and committed."""
    endpoints = ctx.endpoints
    lags, rows, quiesce_s = await _quiesce(endpoints, ctx.consumes, config.drain_timeout_s)
    facts.update(quiescence_s=round(quiesce_s, 1), outbox_rows_at_quiescence=rows)
    await asyncio.sleep(1.5)  # one more scrape of every worker's counters
    facts["worker_exit_codes"] = await ctx.fleet.stop_all()
    facts["foreign_workers_at_end"] = await _foreign_at_end(endpoints.database_url)
    facts["counters"] = ctx.fleet.totals()
    records = await read_records(endpoints.kafka, start_offsets, ctx.run_id)
    facts["records_read"] = len(records)
    return History(
        run_id=ctx.run_id,
        records=records,
        db=await read_db(endpoints.database_url, ctx.run_id, event_ids(records)),
        consumes=ctx.consumes,
        poison=ctx.poison,
        lag=lags,
        duplicates_dropped=ctx.fleet.total("salesflow_duplicates_dropped_total"),
        dedupe_required=any(a.fault.kind in DEDUPE_KINDS for a in applied),
        # The workers read the same variables (SALESFLOW_INVOICE_*).
        native_invoicing=not external_invoicing(),
        default_billing=os.environ.get("SALESFLOW_INVOICE_BILLING", "on_order").lower(),
    )


async def _deployment_checks(
    endpoints: Endpoints, control: InfraControl | None, facts: dict[str, Any]
) -> list[Result]:
    """What the run ran on: its database its own, and on a cluster replicated topics."""
    results = [isolated(facts["foreign_workers_at_end"])]
    if control is not None and control.brokers >= 3:
        facts["replication"] = await replication(endpoints.kafka)
        results.append(replicated(facts["replication"], [t.name for t in ALL_TOPICS]))
    return results


async def run(config: RunConfig, endpoints: Endpoints, control: InfraControl | None) -> RunOutcome:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    schedule = _plan(config, endpoints, control)
    run_id = f"c{config.seed}x{os.urandom(3).hex()}"
    report_dir = config.report_dir
    (report_dir / "logs").mkdir(parents=True, exist_ok=True)
    groups = consumes()
    await refuse_foreign_workers(endpoints.database_url)
    await _prepare(endpoints)
    proxy: FaultProxy | None = None
    worker_endpoints = endpoints
    if NET_KINDS & set(config.kinds):
        # the workers reach both servers through the fault proxy; the harness's own clients not
        proxy = FaultProxy(
            await FaultProxy.plan_for(control), report_dir / "toxiproxy.log", config.seed
        )
        await proxy.start()
        worker_endpoints = proxy.plan.proxied(endpoints)
    fleet = Fleet(worker_endpoints, report_dir / "logs", os.environ)
    down: set[str] = set()
    applied: list[Applied] = []
    facts: dict[str, Any] = {"run_id": run_id}
    scraper = asyncio.create_task(fleet.scrape_forever())
    try:
        await asyncio.gather(
            *(
                fleet.start(stage, ready_timeout_s=180)
                for stage in STAGE_NAMES
                for _ in range(config.members)
            )
        )
        await wait_until_quote_svc_holds(
            endpoints.database_url,
            await load_price_list(endpoints.kafka, PRICE_LIST),
            timeout_s=90.0,
        )
        start_offsets = await end_offsets(endpoints.kafka)
        driver = LifecycleDriver(
            endpoints.kafka,
            rate=config.rate,
            seed=config.seed,
            leads=OPEN_ENDED,
            run_id=run_id,
            idle_timeout_s=60.0,
            keep_recent=5000,
            behaviour=Behaviour(erp_invoices=external_invoicing()),
        )
        ctx = FaultContext(fleet, endpoints, driver, control, groups, config.seed, run_id)
        ctx.down = down
        ctx.members = config.members
        ctx.proxy = proxy
        log.info("load_start", run_id=run_id, rate=config.rate, faults=len(schedule))
        applied = await _drive(ctx, schedule, config, facts)
        await _move_time(ctx, facts)
        history = await _history(ctx, start_offsets, applied, config, facts)
        if proxy is not None:
            # the workers stopped: every connection counted (toxiproxy counts at the close)
            facts["proxy_bytes"] = await proxy.received_bytes()
        results = run_checks(check(history), applied, facts, config.bounds, schedule)
        results += await _deployment_checks(endpoints, control, facts)
        if config.keep_history or not all(r.passed for r in results):
            facts["history"] = str(archive.dump(history, report_dir / "history.json.gz"))
    finally:
        scraper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scraper
        fleet.kill_all()
        if proxy is not None:
            await proxy.stop()
        if control is not None:
            for server in sorted(down):  # a fault interrupted while a server was down
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(
                        control.postgres_start if server == "postgres" else control.kafka_start
                    )
    return RunOutcome(
        config, run_id, schedule, applied, results, facts, started_at, time.monotonic() - t0
    )
