"""Composition root of quote_svc: `build(...)` wires the worker, nothing runs at import.

Run with `salesflow worker quote`, or `faststream run --factory services.quote_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream
from opentelemetry.trace import TracerProvider

from contracts.stages import stage
from services.quote_svc.handlers import HANDLERS, touches_of
from services.quote_svc.settings import QuoteSettings
from services.quote_svc.store import QuoteStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.stage import HandlerStage
from shared.worker import Worker, build_worker

STAGE = stage("quote")


def build(
    runtime: RuntimeSettings,
    settings: QuoteSettings | None = None,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_QUOTE_*` unless given."""
    settings = settings or QuoteSettings()
    handling = HandlerStage(HANDLERS, touches_of, QuoteStore(), settings.policy())
    return build_worker(runtime, STAGE, handling, clock=clock, tracer_provider=tracer_provider)


def create_app(
    runtime: RuntimeSettings | None = None, settings: QuoteSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
