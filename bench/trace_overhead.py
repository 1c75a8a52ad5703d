"""`python -m bench.trace_overhead`: what tracing costs a batch, in this process, no I/O.

A batch of 500 `lead.captured` records (the load generator's mix) goes through the shared
runtime (`BatchRuntime.handle`) on the in-memory mailbox with a stage that emits one caused event
per message (as every handler does: `caused_by`, so the encoding of that event is included).
Measured per configuration, the median of the repetitions:

- off, records without `traceparent` (the default: no OTEL_* variables, nothing upstream traced);
- off, every record with a `traceparent` (and a `tracestate`): passed through to the caused events;
- on, the SDK recording every span (a provider without exporter: the export is a background
  thread's work and not on the batch's path);

and the tracing share alone (`Tracing.batch`, `message` per record, `end`), so that the
difference does not drown in the runtime's own variance.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry.sdk.trace import TracerProvider

from bench.loadgen import build_leads, new_run_id
from contracts.topics import topic
from shared.backoff import RetryPolicy
from shared.handover import Pending
from shared.health import Readiness
from shared.intake import Intake
from shared.mailbox.memory import MemoryMailbox, MemoryTransaction
from shared.messages import Incoming, Outgoing, caused_by
from shared.metrics import WorkerMetrics
from shared.runtime import BatchRuntime
from shared.tracing import Tracing

TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = b"vendor=opaque"


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _Causing:
    async def apply(
        self, conn: MemoryTransaction, batch: Sequence[Incoming[Any]], now: datetime
    ) -> list[Outgoing]:
        return [caused_by(m, m.payload, producer="lead_svc", now=now) for m in batch]


class _Sink:
    def pending(self) -> Pending:
        return Pending(0, [])

    def committed(
        self, records: Sequence[Outgoing], ids: Sequence[int], *, alone: bool, seen: Pending
    ) -> None:
        return None


def _records(
    size: int, extra: Sequence[tuple[str, bytes]] = ()
) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(
            topic="lead.captured",
            partition=0,
            offset=n,
            timestamp=n,
            timestamp_type=0,
            key=lead.record.key,
            value=lead.record.value,
            checksum=None,
            serialized_key_size=-1,
            serialized_value_size=-1,
            headers=[*lead.record.headers, *extra],
        )
        for n, lead in enumerate(build_leads(size, seed=7, run_id=new_run_id()))
    ]


def _runtime(tracing: Tracing, metrics: WorkerMetrics) -> BatchRuntime[Any]:
    return BatchRuntime(
        service="lead_svc",
        stage=_Causing(),
        mailbox=MemoryMailbox(),
        intake=Intake({"lead.captured": frozenset(topic("lead.captured").event_types)}, 262_144),
        dead_letter_topic="lead_svc.dlq",
        clock=_Clock(),
        metrics=metrics,
        readiness=Readiness(),
        retry_policy=RetryPolicy(0.001, 0.01, 0.1),
        outbox=_Sink(),
        tracing=tracing,
    )


async def _handle_us(records: list[Any], tracing: Tracing, repeat: int) -> float:
    metrics = WorkerMetrics("lead_svc")
    times = []
    for _ in range(repeat):
        runtime = _runtime(tracing, metrics)  # a fresh inbox: every record is new
        started = time.perf_counter()
        await runtime.handle(records)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _share_us(records: list[Any], tracing: Tracing, repeat: int) -> float:
    intake = Intake({"lead.captured": frozenset(topic("lead.captured").event_types)}, 262_144)
    decoded = [intake.read(r) for r in records]
    pairs = [(r, m) for r, m in zip(records, decoded, strict=True) if isinstance(m, Incoming)]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        traced = tracing.batch(len(records))
        for record, message in pairs:
            traced.message(record, message)
        traced.end({"salesflow.processed": len(pairs)})
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


async def _main(size: int, repeat: int) -> None:
    plain = _records(size)
    parent = _records(size, [("traceparent", TRACEPARENT)])
    both = _records(size, [("traceparent", TRACEPARENT), ("tracestate", TRACESTATE)])
    provider = TracerProvider()  # no exporter: recording only
    off, on = Tracing.off("lead_svc"), Tracing("lead_svc", provider)
    configs = [
        ("off, no traceparent", plain, off),
        ("off, traceparent passed through", parent, off),
        ("off, traceparent+tracestate passed", both, off),
        ("on (SDK), no traceparent: new traces", plain, on),
        ("on (SDK), traceparent continued", parent, on),
        ("on (SDK), traceparent+tracestate", both, on),
    ]
    for _, records, tracing in configs:  # warm-up: imports, caches
        await _handle_us(records, tracing, 2)
    lines = [
        f"batch of {size} lead.captured records, median of {repeat} runs",
        f"{'configuration':40} {'handle() us/batch':>18} {'tracing alone us/batch':>23}",
    ]
    for name, records, tracing in configs:
        handle = await _handle_us(records, tracing, repeat)
        share = _share_us(records, tracing, repeat)
        lines.append(f"{name:40} {handle:18.0f} {share:23.0f}")
    provider.shutdown()
    print("\n".join(lines))  # noqa: T201 - the table is this command's output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(_main(args.size, args.repeat))


if __name__ == "__main__":
    main()
