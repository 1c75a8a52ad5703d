"""Which event loop a long-running process runs on.

uvloop (libuv) spends less CPU per socket read, write and callback than asyncio's own loop, and
a worker is mostly that: Kafka fetches and produces, PostgreSQL round trips. asyncio's loop
stays one setting away (`SALESFLOW_EVENT_LOOP=asyncio`), for a platform without uvloop or to
rule it out when hunting a bug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoop = Literal["uvloop", "asyncio"]  # shared.settings.RuntimeSettings.event_loop


def run(main: Coroutine[Any, Any, T], *, loop: EventLoop) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    with asyncio.Runner(loop_factory=_factory(loop)) as runner:
        return runner.run(main)


def _factory(loop: EventLoop) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if loop == "asyncio":
        return None
    import uvloop  # noqa: PLC0415 - loaded only by the processes that run on it

    return uvloop.new_event_loop
