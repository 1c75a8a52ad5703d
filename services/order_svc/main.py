"""Composition root of order_svc: `create_app(...)` builds the worker, nothing runs at import.

Run with `salesflow worker order`, or `faststream run --factory services.order_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream

from services.order_svc.handlers import OrderStage
from services.order_svc.settings import OrderSettings
from services.order_svc.store import OrderStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.worker import Worker, WorkerSpec, build_worker

SPEC = WorkerSpec(
    service="order_svc",
    consumes=("quote.accepted", "order.commands", "invoice.posted", "invoice.paid"),
    publishes=("order.confirmed", "order.fulfilled", "order.cancelled", "order.rejected"),
    description="Creates one order per accepted quote, records fulfilment, cancellation, "
    "invoicing and payment.",
)


def build(
    runtime: RuntimeSettings, settings: OrderSettings | None = None, *, clock: Clock | None = None
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_ORDER_*` unless given."""
    settings = settings or OrderSettings()
    stage = OrderStage(store=OrderStore(), numbering=settings.numbering())
    return build_worker(runtime, SPEC, stage, clock=clock)


def create_app(
    runtime: RuntimeSettings | None = None, settings: OrderSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
