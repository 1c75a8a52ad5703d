"""Composition root of lead_svc: `build(...)` wires the worker, nothing runs at import.

Run with `salesflow worker lead`, or `faststream run --factory services.lead_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream
from opentelemetry.trace import TracerProvider

from contracts.stages import stage
from services.lead_svc.handlers import HANDLERS, touches_of
from services.lead_svc.settings import LeadSettings
from services.lead_svc.store import LeadStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.stage import HandlerStage
from shared.worker import Worker, build_worker

STAGE = stage("lead")


def build(
    runtime: RuntimeSettings,
    settings: LeadSettings | None = None,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_LEAD_*` unless given."""
    settings = settings or LeadSettings()
    handling = HandlerStage(HANDLERS, touches_of, LeadStore(), settings.policy())
    return build_worker(runtime, STAGE, handling, clock=clock, tracer_provider=tracer_provider)


def create_app(
    runtime: RuntimeSettings | None = None, settings: LeadSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
