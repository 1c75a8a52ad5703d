"""One deal, one trace, on the real servers: lead_svc and quote_svc in this process, their spans
in the SDK's in-memory exporter. lead.captured (traced upstream, or not) -> lead.qualified ->
quote.issued: each hop's record carries a `traceparent` of the same trace, whose span is the
message span of the hop before. And, as processes switched on by OTEL_* variables: the gateway
continues the trace an HTTP request names, and a worker exports its spans over OTLP/HTTP."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.quote_svc.settings import QuoteSettings
from tests.support.gateway import WEB_KEY, GatewayProcess
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, header, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.quotes import price, price_record
from tests.support.workers import WorkerProcess, running_worker, wait_for

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
UPSTREAM_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{UPSTREAM_SPAN}-01"
HOPS = ("lead.qualified", "quote.issued")


def _parts(traceparent: str | None) -> tuple[str, str]:
    assert traceparent is not None, "the record carries no traceparent"
    version, trace_id, span_id, _flags = traceparent.split("-")
    assert version == "00"
    return trace_id, span_id


def _span(spans: list[ReadableSpan], name: str, deal: str) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == name and s.attributes is not None and s.attributes["salesflow.deal_id"] == deal
    ]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


async def test_a_deal_is_one_trace_across_lead_and_quote_workers(endpoints: Endpoints) -> None:
    run = new_run_id()
    pl = f"PL-{run}"
    interests = (("SKU-1001", "3"),)
    traced = captured(f"tr-{run}", company=f"Tracer {run} GmbH", interests=interests)
    untraced = captured(f"nt-{run}", company=f"Untraced {run} AG", interests=interests)
    deals = {traced.deal_id, untraced.deal_id}
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def hops(records: list[Any]) -> dict[tuple[str, str], Any]:
        return {
            (r.topic, r.key.decode()): r
            for r in records
            if r.key is not None and r.key.decode() in deals
        }

    reader = await TopicReader(endpoints.kafka, HOPS).start()
    try:
        async with (
            running_worker(endpoints, "lead", tracer_provider=provider),
            running_worker(
                endpoints,
                "quote",
                settings=QuoteSettings(price_list_id=pl),
                tracer_provider=provider,
            ),
        ):
            await publish(
                endpoints.kafka, [price_record(price("SKU-1001", "9.50", price_list_id=pl))]
            )
            first = record_of("lead.captured", traced)
            await publish(
                endpoints.kafka,
                [
                    RawRecord(
                        first.topic,
                        first.value,
                        first.key,
                        [*first.headers, ("traceparent", TRACEPARENT.encode())],
                    ),
                    record_of("lead.captured", untraced),
                ],
            )
            await reader.collect(lambda rs: len(hops(rs)) >= 4)
            # Spans end with their batch, after its commit: wait for the quote hop's.
            await wait_for(
                lambda: (
                    sum(s.name == "lead.qualified process" for s in exporter.get_finished_spans())
                    >= 2
                ),
                30,
                "quote_svc's message spans",
            )
    finally:
        await reader.stop()
        provider.shutdown()

    got = hops(reader.records)
    assert len(got) == 4, sorted(got)
    spans = list(exporter.get_finished_spans())

    # Hop 1: lead_svc continues the upstream trace under its message span for lead.captured.
    qualified_trace, qualified_parent = _parts(
        header(got["lead.qualified", traced.deal_id], "traceparent")
    )
    assert qualified_trace == TRACE_ID
    captured_span = _span(spans, "lead.captured process", traced.deal_id)
    assert captured_span.parent is not None
    assert _hex(captured_span.parent.span_id, 16) == UPSTREAM_SPAN
    assert _hex(captured_span.context.span_id, 16) == qualified_parent

    # Hop 2: quote_svc consumes lead.qualified and continues the same trace.
    issued_trace, issued_parent = _parts(header(got["quote.issued", traced.deal_id], "traceparent"))
    assert issued_trace == TRACE_ID
    qualified_span = _span(spans, "lead.qualified process", traced.deal_id)
    assert qualified_span.parent is not None
    assert _hex(qualified_span.parent.span_id, 16) == qualified_parent
    assert _hex(qualified_span.context.span_id, 16) == issued_parent
    assert _hex(qualified_span.context.trace_id, 32) == TRACE_ID

    # Each batch span links the incoming context of the message it carried.
    batches = [s for s in spans if s.name in ("lead_svc process", "quote_svc process")]
    linked = {
        (_hex(link.context.trace_id, 32), _hex(link.context.span_id, 16))
        for b in batches
        for link in b.links
    }
    assert (TRACE_ID, UPSTREAM_SPAN) in linked
    assert (TRACE_ID, qualified_parent) in linked

    # A lead captured without a traceparent starts a new trace, which its quote continues.
    new_trace, _ = _parts(header(got["lead.qualified", untraced.deal_id], "traceparent"))
    assert new_trace != TRACE_ID
    assert _parts(header(got["quote.issued", untraced.deal_id], "traceparent"))[0] == new_trace
    assert _span(spans, "lead.captured process", untraced.deal_id).parent is None


async def test_the_gateway_switched_on_by_otel_variables_continues_the_http_trace(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    """A process started with OTEL_TRACES_EXPORTER=console: the request's W3C headers start the
    gateway's span, whose context lead.captured carries; the span is exported (to its log)."""
    lead_id = f"gwtr-{new_run_id()}"
    gateway = GatewayProcess(
        endpoints,
        tmp_path / "gateway.log",
        OTEL_TRACES_EXPORTER="console",
        OTEL_SERVICE_NAME="gateway-under-test",
    )
    gateway.start()
    reader = await TopicReader(endpoints.kafka, ("lead.captured",)).start()
    try:
        await gateway.wait_ready()
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            answer = await http.post(
                "/v1/leads",
                json=captured(lead_id).payload.model_dump(mode="json"),
                headers={
                    "Authorization": f"Bearer {WEB_KEY}",
                    "traceparent": TRACEPARENT,
                    "tracestate": "vendor=opaque",
                },
            )
        assert answer.status_code == 202, answer.text
        records = await reader.collect(lambda rs: any(r.key == lead_id.encode() for r in rs))
    finally:
        await reader.stop()
        assert gateway.terminate() == 0, gateway.tail()
    (record,) = [r for r in records if r.key == lead_id.encode()]
    trace_id, span_id = _parts(header(record, "traceparent"))
    assert trace_id == TRACE_ID
    assert span_id != UPSTREAM_SPAN, "the gateway's own span is the parent of the event"
    assert header(record, "tracestate") == "vendor=opaque"
    log = gateway.log_path.read_text(errors="replace")
    assert f'"span_id": "0x{span_id}"' in log, gateway.tail()
    assert "gateway accept lead.captured" in log
    assert "gateway-under-test" in log


class _Collector:
    """An OTLP/HTTP trace receiver on a free port: keeps every export request's spans."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.paths.append(self.path)
                for resource_spans in request.resource_spans:
                    service = next(
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    )
                    for scope in resource_spans.scope_spans:
                        collector.spans.extend((service, span) for span in scope.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(ExportTraceServiceResponse().SerializeToString())

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Collector:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_a_worker_process_exports_its_spans_over_otlp_when_the_endpoint_is_set(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    lead = captured(f"otlp-{new_run_id()}", company=f"Otlp {new_run_id()} Ltd")
    first = record_of("lead.captured", lead)
    with _Collector() as collector:
        worker = WorkerProcess(
            "lead",
            endpoints,
            tmp_path / "lead.log",
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            OTEL_BSP_SCHEDULE_DELAY="200",
        ).start()
        reader = await TopicReader(endpoints.kafka, ("lead.qualified",)).start()
        try:
            await worker.wait_ready()
            await publish(
                endpoints.kafka,
                [
                    RawRecord(
                        first.topic,
                        first.value,
                        first.key,
                        [*first.headers, ("traceparent", TRACEPARENT.encode())],
                    )
                ],
            )
            records = await reader.collect(lambda rs: any(r.key == first.key for r in rs))
        finally:
            await reader.stop()
            assert worker.terminate() == 0, worker.tail()  # flushes what is still batched
    (qualified,) = [r for r in records if r.key == first.key]
    _, parent = _parts(header(qualified, "traceparent"))
    assert set(collector.paths) == {"/v1/traces"}
    exported = [
        (service, span)
        for service, span in collector.spans
        if span.name == "lead.captured process"
        and any(
            a.key == "salesflow.deal_id" and a.value.string_value == lead.deal_id
            for a in span.attributes
        )
    ]
    assert len(exported) == 1, [(s, x.name) for s, x in collector.spans]
    service, span = exported[0]
    assert service == "lead_svc"
    assert span.trace_id.hex() == TRACE_ID
    assert span.parent_span_id.hex() == UPSTREAM_SPAN
    assert span.span_id.hex() == parent
