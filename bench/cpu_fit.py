"""A worker's CPU split into a fixed cost per batch and a cost per message.

The one-stage measurement is run at several maximum batch sizes on the same number of preloaded
records; each run gives the worker's CPU time (user + system, /proc) over the interval, and the
batches and messages its own counters saw. The model is

    cpu = fixed * batches + per_message * messages

(no intercept: no batch, no message, no CPU), fitted by least squares. With the same messages in
every run, `fixed` is the slope of CPU against the number of batches, and what remains, spread
over the messages, is the cost per message; varying the messages too only adds information.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The targets for a worker at 500-record batches.
FIXED_MS_TARGET = 1.0
PER_MESSAGE_US_TARGET = 100.0


def least_squares_2(points: Sequence[tuple[float, float, float]]) -> tuple[float, float] | None:
    """(a, b) minimising sum (y - a*x1 - b*x2)^2 over the (x1, x2, y) points; None when the
    points do not determine both (fewer than two, or x1 proportional to x2 in every point)."""
    s11 = sum(x1 * x1 for x1, _, _ in points)
    s12 = sum(x1 * x2 for x1, x2, _ in points)
    s22 = sum(x2 * x2 for _, x2, _ in points)
    s1y = sum(x1 * y for x1, _, y in points)
    s2y = sum(x2 * y for _, x2, y in points)
    det = s11 * s22 - s12 * s12
    # Relative to the scale of the terms: batch counts proportional to message counts (one
    # batch size only) leave the system singular up to rounding.
    if len(points) < 2 or abs(det) <= 1e-9 * s11 * s22:
        return None
    return (s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det


def fit_batch_cost(
    points: Sequence[tuple[float, float, float]], *, at_batch: int = 500
) -> dict[str, Any]:
    """Fixed ms per batch and us per message from (batches, messages, cpu seconds) points, with
    the CPU per message at `at_batch`-record batches, the fit's R^2 and verdicts."""
    usable = [p for p in points if p[0] > 0 and p[1] > 0 and p[2] > 0]
    fitted = least_squares_2(usable)
    if fitted is None:
        return {
            "fixed_ms_per_batch": None,
            "per_message_us": None,
            "at_batch": at_batch,
            "cpu_per_message_us_at_batch": None,
            "r2": None,
            "points_used": len(usable),
            "fixed_met": None,
            "per_message_met": None,
        }
    fixed, per_message = fitted
    ys = [y for _, _, y in usable]
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - fixed * b - per_message * m) ** 2 for b, m, y in usable)
    fixed_ms, per_message_us = fixed * 1000, per_message * 1e6
    return {
        "fixed_ms_per_batch": round(fixed_ms, 3),
        "per_message_us": round(per_message_us, 1),
        "at_batch": at_batch,
        "cpu_per_message_us_at_batch": round(fixed_ms * 1000 / at_batch + per_message_us, 1),
        "r2": round(1 - residual / total, 4) if total > 0 else None,
        "points_used": len(usable),
        "fixed_met": fixed_ms <= FIXED_MS_TARGET,
        "per_message_met": per_message_us <= PER_MESSAGE_US_TARGET,
    }
