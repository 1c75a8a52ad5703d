"""Composition root of quote_svc: `create_app(...)` builds the worker, nothing runs at import.

Run with `salesflow worker quote`, or `faststream run --factory services.quote_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream

from services.quote_svc.handlers import QuoteStage
from services.quote_svc.settings import QuoteSettings
from services.quote_svc.store import QuoteStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.worker import Worker, WorkerSpec, build_worker

SPEC = WorkerSpec(
    service="quote_svc",
    consumes=("lead.qualified", "catalog.prices", "quote.commands"),
    publishes=(
        "quote.issued",
        "quote.accepted",
        "quote.closed",
        "opportunity.closed",
        "quote.rejected",
    ),
    description="Opens opportunities, prices and issues quotes, revises, wins and loses them.",
)


def build(
    runtime: RuntimeSettings, settings: QuoteSettings | None = None, *, clock: Clock | None = None
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_QUOTE_*` unless given."""
    settings = settings or QuoteSettings()
    stage = QuoteStage(store=QuoteStore(), policy=settings.policy())
    return build_worker(runtime, SPEC, stage, clock=clock)


def create_app(
    runtime: RuntimeSettings | None = None, settings: QuoteSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
