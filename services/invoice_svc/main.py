"""Composition root of invoice_svc: `build(...)` wires the worker, nothing runs at import.

Run with `salesflow worker invoice`, or
`faststream run --factory services.invoice_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream
from opentelemetry.trace import TracerProvider

from contracts.stages import stage
from services.invoice_svc.handlers import HANDLERS, touches_of
from services.invoice_svc.settings import InvoiceSettings
from services.invoice_svc.store import InvoiceStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.stage import HandlerStage
from shared.worker import Worker, build_worker

STAGE = stage("invoice")


def build(
    runtime: RuntimeSettings,
    settings: InvoiceSettings | None = None,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_INVOICE_*` unless given."""
    settings = settings or InvoiceSettings()
    handling = HandlerStage(HANDLERS, touches_of, InvoiceStore(), settings.policy())
    return build_worker(runtime, STAGE, handling, clock=clock, tracer_provider=tracer_provider)


def create_app(
    runtime: RuntimeSettings | None = None, settings: InvoiceSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
