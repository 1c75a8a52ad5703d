"""Build a stage's worker from its name: the operator's door to the registry in contracts.stages.

Imported lazily by name (`services.<service>.main`): a worker process loads only its own service.
"""

from __future__ import annotations

import importlib
from typing import Any

from contracts.stages import stage
from shared.settings import RuntimeSettings
from shared.worker import Worker


def build_stage(name: str, runtime: RuntimeSettings, **kwargs: Any) -> Worker:
    """Build the worker of stage `name` via its service's `main.build(runtime, ...)`."""
    try:
        module = importlib.import_module(stage(name).main_module)
    except KeyError as error:
        raise ValueError(str(error.args[0])) from None
    worker: Worker = module.build(runtime, **kwargs)
    return worker
