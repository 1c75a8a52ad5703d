"""The OpenTelemetry SDK for a composition root, switched on by the standard OTEL_* variables.

Off by default (unlike the SDK's own default of `otlp`): a worker exports spans only when
`OTEL_TRACES_EXPORTER` names an exporter (`otlp` or `console`) or an OTLP endpoint is set
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true`
or `OTEL_TRACES_EXPORTER=none` keep it off. The exporter is OTLP over HTTP/protobuf and reads
its own variables (endpoint, headers, certificates, timeout, compression); the sampler
(`OTEL_TRACES_SAMPLER`, default parent-based always-on) and the resource (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`; service.name defaults to the worker's service) are the SDK's.

The SDK is imported only when asked for, and nothing is built at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import structlog
from opentelemetry import trace

from shared.tracing import Tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.stdlib.get_logger("salesflow.trace_export")

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
EXPORTERS = frozenset({"otlp", "console"})


class TraceExportError(ValueError):
    """OTEL_* asks for something this build cannot do (named in the message)."""


def exporter_named(env: Mapping[str, str]) -> str | None:
    """The exporter the variables ask for, or None (tracing off)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named:
        chosen = [n.strip() for n in named.split(",") if n.strip()]
        if chosen == ["none"]:
            return None
        unknown = sorted(set(chosen) - EXPORTERS)
        if unknown or len(chosen) != 1:
            raise TraceExportError(
                f"OTEL_TRACES_EXPORTER={named!r}: salesflow exports to one of "
                f"{sorted(EXPORTERS)} (or none)"
            )
        exporter = chosen[0]
    elif any(env.get(name, "").strip() for name in _ENDPOINTS):
        exporter = "otlp"
    else:
        return None
    if exporter == "otlp":
        protocol = next((env[p].strip() for p in _PROTOCOLS if env.get(p, "").strip()), "")
        if protocol not in ("", "http/protobuf"):
            raise TraceExportError(
                f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: salesflow ships the OTLP exporter "
                "over HTTP/protobuf only (a collector listens on :4318 for it)"
            )
    return exporter


def provider_from_env(service: str) -> TracerProvider | None:
    """An SDK tracer provider exporting in the background, when OTEL_* asks; else None.

    The caller owns it: `shutdown()` on stop exports what is still batched."""
    exporter = exporter_named(os.environ)
    if exporter is None:
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415 - the SDK only when asked for
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415 - idem
    from opentelemetry.sdk.trace.export import (  # noqa: PLC0415 - idem
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    # OTEL_SERVICE_NAME or a service.name in OTEL_RESOURCE_ATTRIBUTES wins over the service's.
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    span_exporter: SpanExporter
    if exporter == "console":
        span_exporter = ConsoleSpanExporter(service_name=service)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415 - idem
            OTLPSpanExporter,
        )

        span_exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    log.info("tracing_on", service=service, exporter=exporter)
    return provider


def tracing_for(
    service: str, given: trace.TracerProvider | None
) -> tuple[Tracing, TracerProvider | None]:
    """A composition root's tracing: the `given` provider (a test's), else the SDK when OTEL_*
    asks, else off; and the provider it built, its own to `shutdown()` on stop."""
    if given is not None:
        return Tracing(service, given), None
    exporting = provider_from_env(service)
    return Tracing(service, exporting), exporting
