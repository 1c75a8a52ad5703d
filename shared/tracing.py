"""W3C trace context across hops: one deal is one trace, whichever workers it passes.

A consumed record's `traceparent`/`tracestate` headers name the span that published it. Per
polled batch the runtime opens one span (`<service> process`) linked to every record's incoming
context, and per decoded message a span in the message's own trace (its parent: the incoming
context; a record without a valid `traceparent` starts a new trace). That message span's context
travels with the message (`Incoming.trace`), is copied onto every event it causes
(`shared.messages.caused_by`), stored with the outbox row (`trace_context`) and sent by the relay
as `traceparent`/`tracestate` headers. So lead.captured -> lead.qualified -> quote.issued ... are
spans of one trace, each hop's message span the parent of the next.

Only the OpenTelemetry API is used here: with no tracer (`Tracing.off()`, the default) nothing is
recorded, and a valid incoming context is passed through unchanged, so a traced producer's trace
survives an untraced worker. A malformed context is ignored (a new trace, or none when off), never
a reason to refuse the record. The SDK and its exporter are built by the composition roots only
(`shared.trace_export`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState

if TYPE_CHECKING:
    from shared.intake import Record
    from shared.messages import Incoming

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACE_HEADERS = frozenset({TRACEPARENT, TRACESTATE})
INSTRUMENTATION = "salesflow"

# Neither header can hold a line break (W3C: traceparent is hex and dashes, tracestate printable
# ASCII), so one text column holds both: `traceparent` or `traceparent\ntracestate`.
_SEPARATOR = "\n"

Headers = Sequence[tuple[str, bytes | None]]

_W3C = TraceContextTextMapPropagator()


class _HeaderGetter(Getter[Headers]):
    """Reads W3C headers from Kafka headers; a value that is null or not UTF-8 is absent."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        found = []
        for name, value in carrier:
            if name == key and value is not None:
                try:
                    found.append(value.decode("utf-8"))
                except UnicodeDecodeError:
                    continue
        return found or None

    def keys(self, carrier: Headers) -> list[str]:
        return [name for name, _ in carrier]


_GETTER = _HeaderGetter()


# The shape every W3C producer writes today (version 00, nothing after the flags), read without
# the propagator's generic path; anything else (other versions, blanks) goes through it.
_VERSION_00 = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


def incoming_context(headers: Headers) -> trace.SpanContext | None:
    """The valid W3C context a record carries, or None (absent or malformed)."""
    parent: bytes | None = None
    state: list[bytes | None] = []
    for name, value in headers:
        if name == TRACEPARENT:
            if parent is not None:
                return _generic(headers)
            parent = value
        elif name == TRACESTATE:
            state.append(value)
    if parent is None:
        return None
    try:
        text = parent.decode("ascii")
    except UnicodeDecodeError:
        return None
    match = _VERSION_00.fullmatch(text)
    if match is None:
        return _generic(headers)
    trace_id, span_id, flags = match.groups()
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    trace_state = None
    if state:
        try:
            values = [v.decode("ascii") for v in state if v is not None]
        except UnicodeDecodeError:
            values = []  # not ASCII: an invalid tracestate, dropped whole (W3C)
        trace_state = TraceState.from_header(values) if values else None
    return trace.SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(int(flags, 16)),
        trace_state=trace_state,
    )


def passed_through(headers: Headers) -> str | None:
    """The record's context as stored for what it causes, untouched (tracing off)."""
    parent: bytes | None = None
    for name, value in headers:
        if name == TRACESTATE or (name == TRACEPARENT and parent is not None):
            break
        if name == TRACEPARENT:
            parent = value
    else:
        # One traceparent and no tracestate: a canonical version-00 value is already what
        # `pack` would write.
        if parent is None:
            return None
        match = _VERSION_00.fullmatch(parent.decode("ascii", "replace"))
        if match is not None and match[1] != _ZERO_TRACE and match[2] != _ZERO_SPAN:
            return match.string
    context = incoming_context(headers)
    return None if context is None else pack(context)


def _generic(headers: Headers) -> trace.SpanContext | None:
    span = trace.get_current_span(_W3C.extract(headers, Context(), _GETTER))
    context = span.get_span_context()
    return context if context.is_valid else None


def pack(span_context: trace.SpanContext) -> str:
    """The text stored with an outbox row: the context as W3C headers (what the propagator's
    inject writes: version 00)."""
    parent = (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{span_context.trace_flags:02x}"
    )
    state = span_context.trace_state.to_header() if span_context.trace_state else ""
    return f"{parent}{_SEPARATOR}{state}" if state else parent


def trace_headers(packed: str | None) -> list[tuple[str, bytes | None]]:
    """The Kafka headers for a stored context; none for None."""
    if not packed:
        return []
    parent, _, state = packed.partition(_SEPARATOR)
    headers: list[tuple[str, bytes | None]] = [(TRACEPARENT, parent.encode())]
    if state:
        headers.append((TRACESTATE, state.encode()))
    return headers


def trace_id_of(packed: str | None) -> str | None:
    """The 32-hex trace id of a stored context or a `traceparent` value."""
    if not packed:
        return None
    parts = packed.split("-")
    return parts[1] if len(parts) >= 3 else None


class BatchTrace:
    """The spans of one polled batch; `message` per decoded record, `end` once."""

    def message(self, record: Record, message: Incoming[Any]) -> str | None:
        """The context (packed) that what this message causes is stamped with."""
        return passed_through(record.headers)

    def link(self, headers: Headers) -> None:
        """A record of the batch that is not decoded (dead-lettered): linked only."""

    def end(self, attributes: dict[str, Any], error: BaseException | None = None) -> None:
        """Close the batch's spans."""


_PASS_THROUGH = BatchTrace()


class _RecordedBatch(BatchTrace):
    def __init__(self, tracer: Tracer, service: str, records: int) -> None:
        self._tracer = tracer
        self._batch = tracer.start_span(
            f"{service} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.batch.message_count": records,
                "salesflow.service": service,
            },
        )
        self._batch_link = [Link(self._batch.get_span_context())]
        self._messages: list[Span] = []

    def message(self, record: Record, message: Incoming[Any]) -> str | None:
        incoming = self._linked(record.headers)
        parent = (
            Context()
            if incoming is None
            else trace.set_span_in_context(trace.NonRecordingSpan(incoming))
        )
        span = self._tracer.start_span(
            f"{record.topic} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            # OpenTelemetry's messaging conventions, plus what finds a deal's trace.
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": str(message.event_id),
                "salesflow.event_type": message.event_type,
                "salesflow.deal_id": message.deal_id,
            },
            links=self._batch_link,
        )
        self._messages.append(span)
        return pack(span.get_span_context())

    def link(self, headers: Headers) -> None:
        self._linked(headers)

    def _linked(self, headers: Headers) -> trace.SpanContext | None:
        incoming = incoming_context(headers)
        if incoming is not None:
            self._batch.add_link(incoming)
        return incoming

    def end(self, attributes: dict[str, Any], error: BaseException | None = None) -> None:
        self._batch.set_attributes(attributes)
        if error is not None:
            self._batch.record_exception(error)
            self._batch.set_status(Status(StatusCode.ERROR, type(error).__name__))
        for span in self._messages:
            span.end()
        self._batch.end()


class Tracing:
    """A worker's tracer, or none (`off`: contexts passed through, nothing recorded)."""

    def __init__(self, service: str, provider: TracerProvider | None) -> None:
        self._service = service
        self._tracer = None if provider is None else provider.get_tracer(INSTRUMENTATION)

    @classmethod
    def off(cls, service: str = "") -> Tracing:
        return cls(service, None)

    @property
    def recording(self) -> bool:
        return self._tracer is not None

    def batch(self, records: int) -> BatchTrace:
        if self._tracer is None:
            return _PASS_THROUGH
        return _RecordedBatch(self._tracer, self._service, records)

    @contextlib.contextmanager
    def request(
        self, http_headers: Mapping[str, str], name: str, attributes: Mapping[str, Any]
    ) -> Iterator[str | None]:
        """A span for an HTTP request that publishes (the gateway), in the trace its W3C
        headers name (or a new one); yields the context (packed) to store with what it writes.
        Off: the request's own valid context, passed through."""
        incoming = None
        if TRACEPARENT in http_headers:
            found = trace.get_current_span(_W3C.extract(http_headers, Context()))
            incoming = found.get_span_context() if found.get_span_context().is_valid else None
        if self._tracer is None:
            yield None if incoming is None else pack(incoming)
            return
        parent = (
            Context()
            if incoming is None
            else trace.set_span_in_context(trace.NonRecordingSpan(incoming))
        )
        span = self._tracer.start_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=dict(attributes)
        )
        try:
            yield pack(span.get_span_context())
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.end()
