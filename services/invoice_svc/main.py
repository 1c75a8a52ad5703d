"""Composition root of invoice_svc: `create_app(...)` builds the worker, nothing runs at import.

Run with `salesflow worker invoice`, or
`faststream run --factory services.invoice_svc.main:create_app`.
"""

from __future__ import annotations

from faststream import FastStream

from services.invoice_svc.handlers import InvoiceStage
from services.invoice_svc.settings import InvoiceSettings
from services.invoice_svc.store import InvoiceStore
from shared.clock import Clock
from shared.settings import RuntimeSettings
from shared.worker import Worker, WorkerSpec, build_worker

SPEC = WorkerSpec(
    service="invoice_svc",
    consumes=("order.confirmed", "order.cancelled", "invoice.commands"),
    publishes=("invoice.posted", "invoice.paid", "invoice.cancelled", "invoice.rejected"),
    description="Posts invoices for confirmed orders (native) or links the accounting system's "
    "invoices to them (external), records payments, cancels invoices.",
)


def build(
    runtime: RuntimeSettings,
    settings: InvoiceSettings | None = None,
    *,
    clock: Clock | None = None,
) -> Worker:
    """The worker, with its own settings read from `SALESFLOW_INVOICE_*` unless given."""
    settings = settings or InvoiceSettings()
    stage = InvoiceStage(store=InvoiceStore(), policy=settings.policy())
    return build_worker(runtime, SPEC, stage, clock=clock)


def create_app(
    runtime: RuntimeSettings | None = None, settings: InvoiceSettings | None = None
) -> FastStream:
    return build(runtime or RuntimeSettings(), settings).app
