"""W3C trace context through the runtime and the relay, in memory: what comes in, what the caused
events carry, the spans recorded, and malformed contexts (ignored, never a dead letter)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import (
    TraceContextTextMapPropagator as W3CPropagator,
)

from contracts.topics import topic
from shared.backoff import RetryPolicy
from shared.health import Readiness
from shared.intake import Intake
from shared.mailbox.memory import MemoryMailbox, MemoryTransaction
from shared.messages import Incoming, Outgoing, caused_by
from shared.metrics import WorkerMetrics
from shared.relay import OutboxRelay
from shared.runtime import BatchRuntime
from shared.trace_export import TraceExportError, exporter_named, provider_from_env
from shared.tracing import (
    Tracing,
    incoming_context,
    pack,
    passed_through,
    trace_headers,
    trace_id_of,
)
from tests.support.leads import captured
from tests.support.runtime import RecordingSink, consumed

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(initial_s=0.001, max_s=0.004, budget_s=0.05)
W3C = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
PARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"
STATE = "vendor=opaque,other=x"


class _Clock:
    def now(self) -> datetime:
        return NOW


class CausingStage:
    """Emits, per message, one event the message caused (as every handler does: caused_by)."""

    async def apply(
        self, conn: MemoryTransaction, batch: Sequence[Incoming[Any]], now: datetime
    ) -> list[Outgoing]:
        return [caused_by(msg, msg.payload, producer="lead_svc", now=now) for msg in batch]


class Traced:
    def __init__(self, *, recording: bool) -> None:
        self.spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.mailbox = MemoryMailbox()
        self.runtime = BatchRuntime(
            service="lead_svc",
            stage=CausingStage(),
            mailbox=self.mailbox,
            intake=Intake(
                {n: frozenset(topic(n).event_types) for n in ("lead.captured", "lead.commands")},
                max_message_bytes=262_144,
            ),
            dead_letter_topic="lead_svc.dlq",
            clock=_Clock(),
            metrics=WorkerMetrics("lead_svc"),
            readiness=Readiness(),
            retry_policy=FAST,
            outbox=RecordingSink(),
            tracing=Tracing("lead_svc", provider if recording else None),
        )

    def outbox(self) -> list[Outgoing]:
        return [self.mailbox.outbox[i] for i in sorted(self.mailbox.outbox)]

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]


def _with(headers: Sequence[tuple[str, bytes | None]], lead: str, offset: int) -> Any:
    envelope = captured(lead)
    record = consumed(envelope, offset)
    return consumed(envelope, offset, headers=[*record.headers, *headers])


async def test_off_a_valid_context_passes_through_to_what_the_message_causes() -> None:
    t = Traced(recording=False)
    record = _with([("traceparent", PARENT.encode()), ("tracestate", STATE.encode())], "L1", 0)
    outcome = await t.runtime.handle([record, consumed(captured("L2"), 1)])
    assert (outcome.processed, outcome.dead_lettered) == (2, 0)
    traced, untraced = t.outbox()
    assert trace_headers(traced.trace) == [
        ("traceparent", PARENT.encode()),
        ("tracestate", STATE.encode()),
    ]
    assert untraced.trace is None, "off, a record without context starts no trace"
    assert t.spans.get_finished_spans() == ()


async def test_on_the_caused_event_continues_the_incoming_trace_under_a_message_span() -> None:
    t = Traced(recording=True)
    record = _with([("traceparent", PARENT.encode()), ("tracestate", STATE.encode())], "L1", 7)
    await t.runtime.handle([record])
    (out,) = t.outbox()
    parent, state = (v.decode() for _, v in trace_headers(out.trace) if v is not None)
    assert W3C.match(parent)
    assert state == STATE, "the tracestate travels on unchanged"
    assert trace_id_of(parent) == TRACE_ID
    (message,) = t.finished("lead.captured process")
    (batch,) = t.finished("lead_svc process")
    assert message.kind is SpanKind.CONSUMER
    assert message.parent is not None
    assert format(message.parent.span_id, "016x") == SPAN_ID, "child of the incoming context"
    assert parent.split("-")[2] == format(message.context.span_id, "016x"), (
        "the message span is the parent of what the message causes"
    )
    assert batch.parent is None
    assert [format(link.context.span_id, "016x") for link in batch.links] == [SPAN_ID]
    assert [link.context.span_id for link in message.links] == [batch.context.span_id]
    assert message.attributes is not None
    assert message.attributes["messaging.kafka.offset"] == 7
    assert message.attributes["salesflow.deal_id"] == captured("L1").deal_id
    assert batch.attributes is not None
    assert batch.attributes["salesflow.processed"] == 1


MALFORMED: list[tuple[str, bytes | None]] = [
    ("garbage", b"not-a-traceparent"),
    ("zero trace id", f"00-{'0' * 32}-{SPAN_ID}-01".encode()),
    ("zero span id", f"00-{TRACE_ID}-{'0' * 16}-01".encode()),
    ("version ff", f"ff-{TRACE_ID}-{SPAN_ID}-01".encode()),
    ("upper case", PARENT.upper().encode()),
    ("too long", (PARENT + "-" + "a" * 600).encode()),
    ("not UTF-8", b"\xff\xfe" + PARENT.encode()),
    ("null", None),
]


@pytest.mark.parametrize(("case", "value"), MALFORMED, ids=[c for c, _ in MALFORMED])
@pytest.mark.parametrize("recording", [True, False], ids=["on", "off"])
async def test_a_malformed_context_is_ignored_never_dead_lettered(
    case: str, value: bytes | None, recording: bool
) -> None:
    t = Traced(recording=recording)
    headers = [("traceparent", value), ("tracestate", b"\xff")]
    outcome = await t.runtime.handle([_with(headers, "L1", 0), _with(headers, "L2", 1)])
    assert (outcome.processed, outcome.dead_lettered) == (2, 0), case
    first, second = t.outbox()
    if not recording:
        assert (first.trace, second.trace) == (None, None)
        return
    assert first.trace is not None
    assert second.trace is not None
    assert W3C.match(first.trace), "a new trace, without the bad tracestate"
    assert trace_id_of(first.trace) != TRACE_ID
    assert trace_id_of(first.trace) != trace_id_of(second.trace), "a new trace per message"
    assert all(s.parent is None for s in t.finished("lead.captured process"))


async def test_a_dead_lettered_record_keeps_its_own_headers_and_gets_no_second_context() -> None:
    t = Traced(recording=True)
    envelope = captured("L1")
    poison = consumed(envelope, 0, value=b"{not json", headers=[("traceparent", PARENT.encode())])
    outcome = await t.runtime.handle([poison])
    assert outcome.dead_lettered == 1
    (parked,) = t.outbox()
    assert parked.trace is None
    assert [v for k, v in parked.headers if k == "traceparent"] == [PARENT.encode()]
    (batch,) = t.finished("lead_svc process")
    assert [format(link.context.span_id, "016x") for link in batch.links] == [SPAN_ID]


class HeaderProducer:
    def __init__(self) -> None:
        self.sent: list[list[tuple[str, bytes | None]]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, topic: str, *, value: bytes | None, key: bytes | None, headers: Any
    ) -> Awaitable[None]:
        self.sent.append(list(headers))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


@pytest.mark.parametrize("handed_over", [True, False], ids=["hand-over", "poll"])
async def test_the_relay_sends_the_stored_context_as_w3c_headers(handed_over: bool) -> None:
    mailbox = MemoryMailbox()
    producer = HeaderProducer()
    factory: Callable[[], Any] = lambda: producer  # noqa: E731 - the relay takes a factory
    relay = OutboxRelay(
        service="lead_svc",
        mailbox=mailbox,
        producer_factory=factory,
        metrics=WorkerMetrics("lead_svc"),
        readiness=Readiness(),
        batch_size=100,
        poll_interval_s=0.01,
        retry_policy=FAST,
    )
    records = [
        Outgoing("t", b"deal", b"1", [("h", b"v")], trace=f"{PARENT}\n{STATE}"),
        Outgoing("t", b"deal", b"2", [("h", b"v")], trace=PARENT),
        Outgoing("t", b"deal", b"3", [("h", b"v")]),
    ]
    await relay.start()
    try:
        seen = relay.pending()
        async with mailbox.transaction() as tx:
            posted = await tx.post(records, seen.ids)
        if handed_over:
            relay.committed(records, posted.ids, alone=posted.alone, seen=seen)
        else:
            relay.wake()
        async with asyncio.timeout(5):
            while mailbox.outbox:  # noqa: ASYNC110 - the condition is the relay's side effects
                await asyncio.sleep(0.005)
    finally:
        await relay.stop(drain_timeout_s=2)
    assert producer.sent == [
        [("h", b"v"), ("traceparent", PARENT.encode()), ("tracestate", STATE.encode())],
        [("h", b"v"), ("traceparent", PARENT.encode())],
        [("h", b"v")],
    ]


@pytest.mark.parametrize(
    ("env", "exporter"),
    [
        ({}, None),
        ({"OTEL_SERVICE_NAME": "x"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "otlp"),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "otlp"),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    env: dict[str, str], exporter: str | None
) -> None:
    assert exporter_named(env) == exporter


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "jaeger"},
        {"OTEL_TRACES_EXPORTER": "otlp,console"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    ],
)
def test_what_this_build_cannot_export_is_refused_by_name(env: dict[str, str]) -> None:
    with pytest.raises(TraceExportError):
        exporter_named(env)


def test_the_sdk_is_built_from_the_environment_with_the_service_as_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert provider_from_env("lead_svc") is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = provider_from_env("lead_svc")
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "lead_svc"
    finally:
        provider.shutdown()


@pytest.mark.parametrize("recording", [True, False], ids=["on", "off"])
def test_an_http_request_continues_its_w3c_context_or_starts_none_when_off(
    recording: bool,
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing = Tracing("gateway", provider if recording else None)
    with tracing.request({"traceparent": PARENT, "tracestate": STATE}, "accept", {}) as given:
        pass
    with tracing.request({"traceparent": "bad"}, "accept", {}) as bad:
        pass
    with tracing.request({}, "accept", {}) as none:
        pass
    assert given is not None
    assert trace_id_of(given) == TRACE_ID
    assert given.endswith(f"\n{STATE}")
    if not recording:
        assert given == f"{PARENT}\n{STATE}", "off: passed through as it came"
        assert (bad, none) == (None, None)
        return
    assert given.split("-")[2] != SPAN_ID, "on: the request's span is the parent"
    assert bad is not None
    assert none is not None
    assert trace_id_of(bad) != TRACE_ID
    first, second, third = spans.get_finished_spans()
    assert first.kind is SpanKind.SERVER
    assert first.parent is not None
    assert format(first.parent.span_id, "016x") == SPAN_ID
    assert (second.parent, third.parent) == (None, None)


def _propagators_own(headers: list[tuple[str, bytes | None]]) -> str | None:
    """What OpenTelemetry's W3C propagator reads and would write again: the reference."""
    carrier: dict[str, list[str]] = {}
    for name, value in headers:
        if value is not None:
            carrier.setdefault(name, []).append(value.decode("utf-8", "replace"))
    context = W3CPropagator().extract(carrier, getter=_ListGetter())
    written: dict[str, str] = {}
    W3CPropagator().inject(written, context)
    if "traceparent" not in written:
        return None
    state = written.get("tracestate")
    return written["traceparent"] + (f"\n{state}" if state else "")


class _ListGetter(Getter[dict[str, list[str]]]):
    def get(self, carrier: dict[str, list[str]], key: str) -> list[str] | None:
        return carrier.get(key)

    def keys(self, carrier: dict[str, list[str]]) -> list[str]:
        return list(carrier)


VARIANTS: list[list[tuple[str, bytes | None]]] = [
    [],
    [("traceparent", PARENT.encode())],
    [("traceparent", PARENT.encode()), ("tracestate", STATE.encode())],
    [("tracestate", STATE.encode()), ("traceparent", PARENT.encode())],
    [("traceparent", f"00-{TRACE_ID}-{SPAN_ID}-00".encode())],
    [("traceparent", f" 00-{TRACE_ID}-{SPAN_ID}-01\t".encode())],
    [("traceparent", f"01-{TRACE_ID}-{SPAN_ID}-01-future".encode())],
    [("traceparent", f"00-{TRACE_ID}-{SPAN_ID}-01-extra".encode())],
    [("traceparent", PARENT.encode()), ("tracestate", b"a=1"), ("tracestate", b"b=2")],
    [("traceparent", PARENT.encode()), ("tracestate", b"not a valid member")],
    [("traceparent", PARENT.encode()), ("tracestate", b"")],
    [("traceparent", f"00-{'0' * 32}-{SPAN_ID}-01".encode())],
    [("traceparent", PARENT.encode()), ("tracestate", b"\xff=1"), ("tracestate", b"b=2")],
    [("traceparent", PARENT.encode()), ("tracestate", None), ("tracestate", b"b=2")],
    [("traceparent", b"00-xyz")],
]


@pytest.mark.parametrize("headers", VARIANTS, ids=[str(i) for i in range(len(VARIANTS))])
def test_the_fast_reading_agrees_with_the_propagator(
    headers: list[tuple[str, bytes | None]],
) -> None:
    expected = _propagators_own(headers)
    assert passed_through(headers) == expected
    context = incoming_context(headers)
    assert (None if context is None else pack(context)) == expected
