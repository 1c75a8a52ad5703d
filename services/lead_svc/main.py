"""Composition root of lead_svc: `create_app(...)` builds the worker, nothing runs at import.

Run with `salesflow worker lead`, or `faststream run --factory services.lead_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream

from services.lead_svc.handlers import LeadStage
from services.lead_svc.settings import LeadSettings
from services.lead_svc.store import LeadStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.worker import Worker, WorkerSpec, build_worker

SPEC = WorkerSpec(
    service="lead_svc",
    consumes=("lead.captured", "lead.commands"),
    publishes=("lead.qualified", "lead.disqualified", "lead.rejected"),
    description="Captures leads, applies the qualification policy, qualifies and disqualifies.",
)


def build(
    runtime: RuntimeSettings, settings: LeadSettings | None = None, *, clock: Clock | None = None
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_LEAD_*` unless given."""
    settings = settings or LeadSettings()
    stage = LeadStage(store=LeadStore(), policy=settings.policy())
    return build_worker(runtime, SPEC, stage, clock=clock)


def create_app(
    runtime: RuntimeSettings | None = None, settings: LeadSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
