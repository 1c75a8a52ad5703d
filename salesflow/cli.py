"""`salesflow`: run a worker, migrate, create topics, feed sample leads, inspect dead letters,
read the receivables, an account's statement and the pipeline report."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from contracts.stages import SERVICES, STAGE_NAMES
from salesflow.access_cli import acl_app, db_app, erase_app
from salesflow.rendering import OutputFormat
from salesflow.stages import build_stage
from shared import event_loop
from shared.logs import configure_logging
from shared.settings import RuntimeSettings

app = typer.Typer(
    help="salesflow: the sales lifecycle over Kafka and PostgreSQL.", no_args_is_help=True
)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
catalog_app = typer.Typer(help="Price lists.", no_args_is_help=True)
leads_app = typer.Typer(help="Leads in bulk.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")
accounts_app = typer.Typer(help="Accounts (master data) in bulk.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(dlq_app, name="dlq")
app.add_typer(catalog_app, name="catalog")
report_app = typer.Typer(help="Figures read from the services' tables.")
app.add_typer(report_app, name="report")
app.add_typer(acl_app, name="acl")
app.add_typer(db_app, name="db")
app.add_typer(erase_app, name="erase")


@app.command()
def worker(
    stage: Annotated[str, typer.Argument(help="Which worker: " + ", ".join(STAGE_NAMES))],
) -> None:
    """Run one worker until SIGTERM/SIGINT (finishes its batch, drains its outbox, exits)."""
    if stage not in STAGE_NAMES:
        raise typer.BadParameter(f"unknown stage {stage!r}; known: {', '.join(STAGE_NAMES)}")
    from shared.failures import access_refused  # noqa: PLC0415 - each command loads only what it uses

    try:
        runtime = RuntimeSettings()
    except ValueError as error:
        typer.echo(f"salesflow worker {stage}: bad settings: {error}", err=True)
        raise typer.Exit(2) from None
    configure_logging(runtime.log_level, json=runtime.log_json)

    async def run() -> None:
        await build_stage(stage, runtime).app.run()

    try:
        event_loop.run(run(), loop=runtime.event_loop)
    except Exception as error:
        refused = access_refused(error)
        if refused is None:
            raise
        # One clear line, not a traceback: the operator has a setting to fix.
        typer.echo(f"salesflow worker {stage}: {refused}", err=True)
        raise typer.Exit(3) from None


@app.command()
def migrate(
    service: Annotated[
        list[str] | None, typer.Option(help="Service schema(s) or gateway; default all.")
    ] = None,
) -> None:
    """Apply every service's database migrations (idempotent)."""
    from shared.migrations import upgrade  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, json=runtime.log_json)
    for name in service or (*SERVICES, "gateway"):
        location = "gateway:migrations" if name == "gateway" else None
        upgrade(runtime.sqlalchemy_url(), name, location=location)
        typer.echo(f"migrated {name}")


@app.command()
def gateway(
    host: Annotated[
        str | None, typer.Option(help="Listen address (SALESFLOW_GATEWAY_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (SALESFLOW_GATEWAY_PORT).")] = None,
) -> None:
    """Run the HTTP gateway until SIGTERM/SIGINT: leads and commands over HTTP (OpenAPI at
    /docs and /openapi.json), published to Kafka through its own outbox."""
    from gateway.main import build_gateway, serve  # noqa: PLC0415 - each command loads only what it uses
    from gateway.settings import GatewaySettings  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, json=runtime.log_json)
    settings = GatewaySettings()
    given = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    asyncio.run(serve(build_gateway(runtime, settings), **given))


@topics_app.command("list")
def topics_list() -> None:
    """The worker table and the topic map (markdown), as the README shows them."""
    from salesflow.topic_map import markdown, retention_markdown, workers_markdown  # noqa: PLC0415 - each command loads only what it uses

    typer.echo(workers_markdown())
    typer.echo()
    typer.echo(markdown())
    typer.echo()
    typer.echo(retention_markdown())


@topics_app.command("create")
def topics_create(
    replication_factor: Annotated[
        int | None,
        typer.Option(help="Replicas per partition (default: SALESFLOW_KAFKA_REPLICATION_FACTOR)."),
    ] = None,
) -> None:
    """Create every salesflow topic with its declared partitions and configuration (retention,
    compaction); existing topics are kept and their configuration brought in line."""
    from contracts.topics import ALL_TOPICS  # noqa: PLC0415 - each command loads only what it uses
    from shared.topics_admin import apply_configs, ensure_topics  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, json=runtime.log_json)
    security = runtime.kafka_security
    created = asyncio.run(
        ensure_topics(
            runtime.kafka_bootstrap,
            ALL_TOPICS,
            replication_factor=replication_factor or runtime.kafka_replication_factor,
            security=security,
        )
    )
    configured = asyncio.run(apply_configs(runtime.kafka_bootstrap, ALL_TOPICS, security=security))
    typer.echo(
        f"{len(created)} topics created, {len(ALL_TOPICS) - len(created)} already there, "
        f"{len(configured)} reconfigured"
    )


@app.command()
def tick(
    at: Annotated[
        datetime | None,
        typer.Option(
            parser=datetime.fromisoformat,
            metavar="ISO-8601",
            help="Publish the tick for this time (UTC if no offset): moves salesflow's time "
            "there for every time rule. One tick per time: sending the same time again does "
            "nothing more. Default: the start of the current period.",
        ),
    ] = None,
    period: Annotated[
        int, typer.Option(min=1, help="Seconds per period (one tick per period start).")
    ] = 3600,
    every: Annotated[
        float,
        typer.Option(
            min=0,
            help="Keep ticking: look at the clock this often (seconds) and send each period's "
            "tick once; 0: send one tick and exit.",
        ),
    ] = 0.0,
) -> None:
    """Publish time to `clock.ticks` (the scheduler): quotes expire, invoices fall due, dunning
    levels and stale hand-offs are found when a tick says so. Every producer of one period's
    tick derives the same event id, so running this next to the workers' own tickers is safe."""
    from contracts.ticks import tick_period_start  # noqa: PLC0415 - each command loads only what it uses
    from shared.clock import SystemClock  # noqa: PLC0415 - each command loads only what it uses
    from shared.relay import make_producer  # noqa: PLC0415 - each command loads only what it uses
    from shared.ticker import Ticker, publish_tick  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, json=runtime.log_json)
    if every:
        ticker = Ticker(
            clock=SystemClock(),
            period_seconds=period,
            producer_factory=lambda: make_producer(runtime.kafka_bootstrap, "salesflow-tick"),
            check_every_s=every,
        )
        asyncio.run(ticker.run())
        return
    when = (
        at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
    ) or tick_period_start(datetime.now(UTC), period)
    envelope = asyncio.run(publish_tick(runtime.kafka_bootstrap, when, period))
    typer.echo(f"tick {envelope.payload.at.isoformat()} sent (event id {envelope.event_id})")


@app.command()
def feed(
    leads: Annotated[int, typer.Option(help="How many sample leads to publish.")] = 50,
    seed: Annotated[int, typer.Option(help="Random seed of the sample feed.")] = 7,
    wait: Annotated[float, typer.Option(help="Seconds to wait for every outcome.")] = 60.0,
) -> None:
    """Publish sample leads (with commands and a few poison messages) and report outcomes."""
    from simulator.sample_feed import run_feed  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, json=runtime.log_json)
    report = asyncio.run(run_feed(runtime.kafka_bootstrap, leads=leads, seed=seed, wait_s=wait))
    typer.echo(report.render())
    if not report.complete:
        raise typer.Exit(code=1)


@catalog_app.command("load")
def catalog_load(
    csv_file: Annotated[Path, typer.Argument(help="CSV: price_list_id,sku,description,...")],
    price_list_id: Annotated[str | None, typer.Option(help="Load the file as this list.")] = None,
) -> None:
    """Publish a price list to `catalog.prices` (for people without an ERP catalog feed)."""
    from salesflow.catalog import PriceListError, load_price_list  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    try:
        count = asyncio.run(
            load_price_list(runtime.kafka_bootstrap, csv_file, price_list_id=price_list_id)
        )
    except PriceListError as error:
        typer.echo(f"{csv_file}: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"published {count} price list items to catalog.prices")


@accounts_app.command("import")
def accounts_import(
    file: Annotated[Path, typer.Argument(help="JSON lines, one account.upsert payload each.")],
    wait: Annotated[
        float, typer.Option(help="Seconds to wait until lead_svc holds them (0: do not wait).")
    ] = 0.0,
) -> None:
    """Send accounts as a CRM's or an ERP's sync would (account.commands); bad lines are listed
    and the rest sent; the same file sent twice is applied once."""
    from salesflow.account_import import plan_accounts, publish_accounts, wait_until_held  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    plan = plan_accounts(file.read_text(encoding="utf-8-sig"))
    for problem in plan.errors:
        typer.echo(problem, err=True)
    sent = asyncio.run(publish_accounts(runtime.kafka_bootstrap, plan)) if plan.envelopes else 0
    typer.echo(f"{file}: {plan.lines} lines, {sent} sent to account.commands")
    if wait and sent:
        held = asyncio.run(wait_until_held(runtime.sqlalchemy_url(), plan, wait))
        if not held:
            typer.echo(f"lead_svc did not hold them all within {wait:.0f} s", err=True)
            raise typer.Exit(code=1)
    if plan.errors:
        raise typer.Exit(code=2)


@leads_app.command("import")
def leads_import(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSON lines.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv or jsonl; by default from the file name.")
    ] = "",
    dry_run: Annotated[bool, typer.Option(help="Validate and report; publish nothing.")] = False,
    source: Annotated[str, typer.Option(help="Lead source of rows that name none.")] = (
        "purchased_list"
    ),
    campaign: Annotated[str | None, typer.Option(help="Campaign id of every row.")] = None,
) -> None:
    """Import leads (purchased lists, trade-show scans): every row validated, bad rows listed
    (row, field, reason), the good ones published to lead.captured. Importing the same file
    again imports nothing twice (event ids are derived from each row)."""
    from salesflow.lead_import_command import run_import  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    code = asyncio.run(
        run_import(runtime, file, fmt=fmt, dry_run=dry_run, source=source, campaign=campaign)
    )
    if code:
        raise typer.Exit(code=code)


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@report_app.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    output: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = (
        ReportFormat.TABLE
    ),
) -> None:
    """Pipeline and billing figures read from the services' tables (one snapshot): leads,
    opportunities, quotes, orders and invoices by state; billing per currency. `report
    reconcile` gives one day's booked totals instead."""
    if ctx.invoked_subcommand is not None:
        return
    from salesflow.book_commands import report_text  # noqa: PLC0415 - each command loads only what it uses

    url = RuntimeSettings().sqlalchemy_url()
    _print_or_fail(report_text(url, OutputFormat(output.value)))


@report_app.command("time")
def report_time() -> None:
    """What the time rules did (ticks: `salesflow tick`): quotes expired, invoices overdue,
    reminders by level, hand-offs alerted as stale."""
    from salesflow.time_report import time_text  # noqa: PLC0415 - each command loads only what it uses

    url = RuntimeSettings().sqlalchemy_url()
    typer.echo(asyncio.run(time_text(url)))


@report_app.command("reconcile")
def report_reconcile(
    day: Annotated[
        str, typer.Option("--date", help="The day, YYYY-MM-DD (UTC); default today.")
    ] = "",
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = (
        ReportFormat.TABLE
    ),
) -> None:
    """What salesflow booked on one day, per currency: orders confirmed, invoices posted,
    credit notes, payments received, refunds paid (count and total), to hold against the
    ERP's books."""
    from salesflow.reconcile import day_figures, render  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    when = date.fromisoformat(day) if day else _today()
    figures = asyncio.run(day_figures(runtime.sqlalchemy_url(), when))
    typer.echo(render(when, figures, fmt.value))


@app.command()
def replay(
    group: Annotated[str, typer.Argument(help="The consumer group (a worker's: lead_svc, ...).")],
    since: Annotated[
        str, typer.Option(help="ISO time to read again from, e.g. 2026-12-01T00:00Z.")
    ],
    topic: Annotated[
        list[str] | None, typer.Option(help="Topics to move; default: the worker's inputs.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show the moves, commit nothing.")] = False,
    allow_forward: Annotated[
        bool,
        typer.Option(
            help="Also move partitions where the group is behind --since (or never committed) "
            "forward to it, skipping the records it has not read."
        ),
    ] = False,
) -> None:
    """Move a stopped consumer group back to a point in time on its topics: it reads them again
    from there (salesflow's workers drop what they applied already, by event id). A partition
    where it is behind that time is kept where it is, unless --allow-forward."""
    from salesflow import replay as replaying  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise typer.BadParameter("--since needs a time zone (Z or +hh:mm)")
    try:
        topics = replaying.topics_of(group, topic or ())
        moved = asyncio.run(
            replaying.replay(
                runtime.kafka_bootstrap,
                group,
                topics,
                when,
                dry_run=dry_run,
                allow_forward=allow_forward,
            )
        )
    except replaying.ReplayRefusedError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    for m in moved:
        typer.echo(m.describe())
    typer.echo(replaying.summary(group, moved, dry_run=dry_run))


@app.command()
def trace(
    ref: Annotated[
        str,
        typer.Argument(
            help="The deal id (the lead id), an order number, or the ERP's order number."
        ),
    ],
    everywhere: Annotated[
        bool,
        typer.Option(
            "--everywhere",
            help="Read every partition of every topic, not only the deal's (murmur2's): finds "
            "what a producer with another partitioner (kcat's default) put elsewhere, marked "
            "as such. Reads the whole log: slower.",
        ),
    ] = False,
) -> None:
    """Every event of one deal, in order, across all topics."""
    from salesflow.tracing import deal_of, trace_deal  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    deal_id, found_by = asyncio.run(deal_of(runtime.sqlalchemy_url(), ref))
    if found_by is not None:
        typer.echo(f"deal {deal_id} ({found_by})")
    lines = asyncio.run(trace_deal(runtime.kafka_bootstrap, deal_id, everywhere=everywhere))
    for line in lines:
        typer.echo(line)
    if not lines:
        typer.echo(f"no events for deal {deal_id}")
        raise typer.Exit(code=1)


@app.command()
def drive(
    leads: Annotated[int, typer.Option(help="Deals to start.")] = 300,
    rate: Annotated[
        float, typer.Option(help="Leads per second offered (0: as fast as possible).")
    ] = 100.0,
    seed: Annotated[int, typer.Option(help="Seed of every decision.")] = 7,
    erp_invoices: Annotated[
        bool, typer.Option(help="Play the ERP: register external invoices.")
    ] = False,
    deployment: Annotated[
        str,
        typer.Option(
            help="Which stages salesflow runs: full, crm-leads or crm-quotes; the driver plays "
            "the ERP for the others."
        ),
    ] = "full",
    idle_timeout: Annotated[
        float, typer.Option(help="Give up after this long without progress.")
    ] = 30.0,
) -> None:
    """Play customers, fulfilment and accounting around the workers (and the ERP's stages of
    the deployment); print the funnel."""
    from contracts.stages import deployment as deployment_named  # noqa: PLC0415 - each command loads only what it uses

    try:
        plan = deployment_named(deployment)
    except KeyError as error:
        raise typer.BadParameter(str(error)) from None
    runtime = RuntimeSettings()
    configure_logging("WARNING", json=runtime.log_json)
    if plan.erp_stages:
        from simulator.deployment_driver import DeploymentDriver  # noqa: PLC0415 - each command loads only what it uses

        erp_run = DeploymentDriver(
            runtime.kafka_bootstrap,
            plan,
            leads=leads,
            rate=rate,
            seed=seed,
            idle_timeout_s=idle_timeout,
        )
        result = asyncio.run(erp_run.run())
        typer.echo(result.render())
        if result.incomplete:
            raise typer.Exit(code=1)
        return
    from simulator.driver import Behaviour, LifecycleDriver  # noqa: PLC0415 - each command loads only what it uses

    driver = LifecycleDriver(
        runtime.kafka_bootstrap,
        leads=leads,
        rate=rate,
        seed=seed,
        behaviour=Behaviour(erp_invoices=erp_invoices),
        idle_timeout_s=idle_timeout,
    )
    funnel = asyncio.run(driver.run())
    typer.echo(funnel.render())
    if funnel.incomplete:
        raise typer.Exit(code=1)


def _dead_letter_filter(
    reason: list[str] | None,
    event_id: list[str] | None,
    since: str | None,
    until: str | None,
    source: list[str] | None,
) -> Any:
    from salesflow.dead_letters import DeadLetterFilter  # noqa: PLC0415 - each command loads only what it uses

    return DeadLetterFilter(
        reasons=frozenset(reason or ()),
        event_ids=frozenset(event_id or ()),
        since=_aware(since, "--since"),
        until=_aware(until, "--until"),
        sources=frozenset(source or ()),
    )


def _aware(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} is not an ISO time") from None
    if when.tzinfo is None:
        raise typer.BadParameter(f"{option} needs a time zone (Z or +hh:mm)")
    return when


_REASON = typer.Option("--reason", help="Only entries with this dlq.reason (repeatable).")
_EVENT_ID = typer.Option("--event-id", help="Only the entry of this event id (repeatable).")
_SINCE = typer.Option(help="Only entries parked at or after this ISO time, e.g. 2026-12-01T00:00Z.")
_UNTIL = typer.Option(help="Only entries parked before this ISO time.")
_SOURCE = typer.Option("--source-topic", help="Only entries from this topic (repeatable).")


@dlq_app.command("show")
def dlq_show(
    service: Annotated[str, typer.Argument(help="Service whose dead-letter topic to read.")],
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 20,
    reason: Annotated[list[str] | None, _REASON] = None,
    event_id: Annotated[list[str] | None, _EVENT_ID] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    source_topic: Annotated[list[str] | None, _SOURCE] = None,
) -> None:
    """Print the dead-letter entries of a service: reason, source, event id, the original
    bytes."""
    from salesflow.dead_letters import show  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    which = _dead_letter_filter(reason, event_id, since, until, source_topic)
    asyncio.run(show(runtime.kafka_bootstrap, service, limit, which))


@dlq_app.command("redrive")
def dlq_redrive(
    service: Annotated[str, typer.Argument(help="Service whose dead letters to re-publish.")],
    reason: Annotated[list[str] | None, _REASON] = None,
    event_id: Annotated[list[str] | None, _EVENT_ID] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    source_topic: Annotated[list[str] | None, _SOURCE] = None,
    dry_run: Annotated[bool, typer.Option(help="List what would be sent; send nothing.")] = False,
) -> None:
    """Re-publish dead letters to their source topic, unchanged (same event id: the inbox still
    drops anything that was applied); run after fixing the cause, best with --dry-run first."""
    from salesflow.dead_letters import redrive  # noqa: PLC0415 - each command loads only what it uses

    runtime = RuntimeSettings()
    which = _dead_letter_filter(reason, event_id, since, until, source_topic)
    chosen = asyncio.run(redrive(runtime.kafka_bootstrap, service, which, dry_run=dry_run))
    for letter in chosen:
        typer.echo(letter.describe())
    typer.echo(f"{'would re-publish' if dry_run else 're-published'} {len(chosen)} dead letters")


def _today() -> date:
    return datetime.now(UTC).date()


def _print_or_fail(work: Coroutine[Any, Any, str]) -> None:
    """Print what a report command returns; nothing found (LookupError) or no database
    (ConnectionError) is said in one line, exit 1."""
    try:
        typer.echo(asyncio.run(work))
    except (LookupError, ConnectionError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None


@app.command()
def receivables(
    account: Annotated[
        str | None, typer.Argument(help="Account id (uuid) or part of its name, any case.")
    ] = None,
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="Entries up to this date; default today (UTC).",
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    include_settled: Annotated[
        bool, typer.Option("--all", help="Also accounts with nothing open (no ACCOUNT given).")
    ] = False,
) -> None:
    """Per account and currency: invoiced, credited, paid, refunded, outstanding, unapplied
    credit, and open invoice amounts by days past due (current, 1-30, 31-60, 61-90, over 90)."""
    from salesflow.book_commands import receivables_text  # noqa: PLC0415 - each command loads only what it uses

    url = RuntimeSettings().sqlalchemy_url()
    day = as_of or _today()
    _print_or_fail(receivables_text(url, account, day, output, include_settled=include_settled))


@app.command()
def statement(
    account: Annotated[str, typer.Argument(help="Account id (uuid) or its name, any case.")],
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    start: Annotated[
        date | None,
        typer.Option(
            "--from",
            parser=date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="First day shown; what came before is the opening balance.",
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(
            "--to",
            parser=date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="Last day shown; default today (UTC).",
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """Every document and payment of one account in date order with a running balance, which
    ends at the account's outstanding (`salesflow receivables --as-of` the same day)."""
    from salesflow.book_commands import statement_text  # noqa: PLC0415 - each command loads only what it uses

    last = end or _today()
    if start is not None and start > last:
        raise typer.BadParameter(f"--from {start} is after --to {last}")
    url = RuntimeSettings().sqlalchemy_url()
    money = currency.upper() if currency else None
    _print_or_fail(
        statement_text(url, account, currency=money, start=start, end=last, output=output)
    )


def main() -> None:
    app()
