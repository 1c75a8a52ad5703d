"""Fault injection for the crash tests: the process SIGKILLs itself at a named point.

Production runs with no point set; the check is one string comparison. The points are where a
crash is hardest to survive: inside the batch transaction (`in_transaction`), after the database
commit and before the offset commit (`after_db_commit`), and in the relay after the broker's ack
and before the outbox rows are deleted (`relay_after_ack`).
"""

from __future__ import annotations

import os
import signal

import structlog

log = structlog.stdlib.get_logger("salesflow.crash")

POINTS = ("in_transaction", "after_db_commit", "relay_after_ack")


class CrashPoints:
    def __init__(self, point: str = "", after: int = 1) -> None:
        if point and point not in POINTS:
            raise ValueError(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")
        self._point = point
        self._after = after
        self._passes = 0

    def reached(self, name: str) -> None:
        if name != self._point:
            return
        self._passes += 1
        if self._passes >= self._after:
            log.warning("crash_point_reached", point=name, passes=self._passes)
            os.kill(os.getpid(), signal.SIGKILL)
