"""Composition root of order_svc: `build(...)` wires the worker, nothing runs at import.

Run with `salesflow worker order`, or
`faststream run --factory services.order_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream
from opentelemetry.trace import TracerProvider

from contracts.stages import stage
from services.order_svc.handlers import HANDLERS, touches_of
from services.order_svc.settings import OrderSettings
from services.order_svc.store import OrderStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.stage import HandlerStage
from shared.worker import Worker, build_worker

STAGE = stage("order")


def build(
    runtime: RuntimeSettings,
    settings: OrderSettings | None = None,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_ORDER_*` unless given."""
    settings = settings or OrderSettings()
    handling = HandlerStage(HANDLERS, touches_of, OrderStore(), settings.policy())
    return build_worker(runtime, STAGE, handling, clock=clock, tracer_provider=tracer_provider)


def create_app(
    runtime: RuntimeSettings | None = None, settings: OrderSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
