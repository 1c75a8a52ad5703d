"""Exponential backoff, written once for every retry loop of the runtime, relay and start-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays grow from `initial_s` by doubling up to `max_s`; `budget_s` bounds a retry."""

    initial_s: float = 0.1
    max_s: float = 5.0
    budget_s: float = 30.0


class Backoff:
    """The delays of one retry sequence; `reset` after a success."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._delay = policy.initial_s

    def reset(self) -> None:
        self._delay = self._policy.initial_s

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(delay * 2, self._policy.max_s)
        return delay


async def retry(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    on_retry: Callable[[BaseException, float], None] | None = None,
    budget_s: float | None = None,
) -> T:
    """Run `operation` until it succeeds; a `retryable` failure is retried after a backoff delay
    while the budget (`budget_s`, else the policy's; `inf` for no bound) allows, and re-raised
    once it does not. Any other failure is raised at once."""
    backoff = Backoff(policy)
    deadline = time.monotonic() + (policy.budget_s if budget_s is None else budget_s)
    while True:
        try:
            return await operation()
        except Exception as error:
            if not retryable(error):
                raise
            delay = backoff.next_delay()
            if time.monotonic() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry(error, delay)
            await asyncio.sleep(delay)
