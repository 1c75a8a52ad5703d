"""Which composition root runs which stage: the one registry the CLI and the tests share."""

from __future__ import annotations

import importlib
from typing import Any

from shared.settings import RuntimeSettings
from shared.worker import Worker

# Imported lazily by name: a worker process loads only its own service.
STAGES: dict[str, str] = {
    "lead": "services.lead_svc.main",
    "quote": "services.quote_svc.main",
    "order": "services.order_svc.main",
    "invoice": "services.invoice_svc.main",
}


def build_stage(stage: str, runtime: RuntimeSettings, **kwargs: Any) -> Worker:
    """Build the worker of `stage` via its service's `main.build(runtime, ...)`."""
    try:
        module = importlib.import_module(STAGES[stage])
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}") from None
    worker: Worker = module.build(runtime, **kwargs)
    return worker
