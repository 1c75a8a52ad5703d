"""`salesflow leads import`: plan the file, show what is wrong with it, publish the rest with a
progress bar, and sum up."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from contracts.leads import LeadSource
from salesflow.lead_import import plan_import, publish_plan
from shared import kafka_clients
from shared.settings import RuntimeSettings

MAX_ERRORS_SHOWN = 200


async def run_import(
    runtime: RuntimeSettings,
    file: Path,
    *,
    fmt: str,
    dry_run: bool,
    source: str,
    campaign: str | None,
) -> int:
    """Exit code: 0 all rows imported, 1 nothing usable or not readable, 2 some rows refused."""
    out, err = Console(), Console(stderr=True)
    try:
        text = await asyncio.to_thread(file.read_text, encoding="utf-8-sig")
        lead_source = LeadSource(source)
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        err.print(f"{file}: {problem}")
        return 1
    kind = fmt or ("jsonl" if file.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv")
    plan = plan_import(text, fmt=kind, source=lead_source, campaign_id=campaign)
    for row_error in plan.errors[:MAX_ERRORS_SHOWN]:
        err.print(row_error.render(), markup=False, highlight=False, soft_wrap=True)
    if len(plan.errors) > MAX_ERRORS_SHOWN:
        err.print(f"... and {len(plan.errors) - MAX_ERRORS_SHOWN} more errors")
    sent = 0
    if plan.envelopes and not dry_run:
        producer = kafka_clients.producer(
            runtime.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            with Progress(
                TextColumn("publishing"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                disable=not sys.stderr.isatty(),
            ) as progress:
                task = progress.add_task("leads", total=len(plan.envelopes))
                sent = await publish_plan(
                    producer,
                    (env for _, env in plan.envelopes),
                    on_sent=lambda n: progress.advance(task, n),
                )
        finally:
            await producer.stop()
    verb = "would publish" if dry_run else "published"
    out.print(
        f"{file}: {plan.rows} rows, {len(plan.envelopes)} valid, {plan.bad_rows} refused; "
        f"{verb} {len(plan.envelopes) if dry_run else sent} to lead.captured"
        + ("" if dry_run else " (rows imported before are dropped by lead_svc as duplicates)"),
        markup=False,
        highlight=False,
        soft_wrap=True,  # one line per summary and per error, whatever the terminal's width
    )
    if not plan.envelopes:
        return 1
    return 2 if plan.errors else 0
