"""The HTTP surface: one route per inbound event type, two reads, health, and the error shape.

Written without `from __future__ import annotations`: each command's route is made in a loop
with its own request model as the body's annotation, which FastAPI reads as an object.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import Counter
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.leads import LeadCaptured
from contracts.topics import topic_for_event
from gateway.clients import Client, Clients, Denied, Read
from gateway.commands import (
    INBOUND_EVENT_TYPES,
    MAX_IDEMPOTENCY_KEY,
    REQUEST_MODELS,
    CommandRequest,
    MissingDealError,
    deal_of,
    envelope_of,
    event_id_for,
    fingerprint,
)
from gateway.problems import PROBLEM_SCHEMA, problem, validation_errors
from gateway.store import KeyReusedError, RequestLog
from salesflow.tracing import TracedEvent
from shared.clock import Clock
from shared.failures import describe, is_transient
from shared.health import Readiness
from shared.metrics import WorkerMetrics
from shared.tracing import Tracing

log = structlog.stdlib.get_logger("salesflow.gateway")

API = "/v1"
LEADS = f"{API}/leads"
COMMANDS = f"{API}/commands"


class ProblemError(Exception):
    def __init__(self, status: int, kind: str, detail: str, **headers: str) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers


class AcceptedBody(BaseModel):
    event_id: str = Field(description="The event id; the same for every retry with the key.")
    event_type: str
    deal_id: str = Field(description="The deal, also the Kafka key.")
    topic: str = Field(description="Where it is published.")
    replayed: bool = Field(description="True when this answers a retry (nothing sent again).")


@dataclass(frozen=True)
class Reads:
    """The read side, as functions of the request (built by the composition root)."""

    trace: Callable[[str], Awaitable[tuple[str, str | None, list[TracedEvent]]]]
    receivables: Callable[[str | None, date | None, bool], Awaitable[str]]


@dataclass(frozen=True)
class GatewayParts:
    clients: Clients
    requests: RequestLog
    reads: Reads
    clock: Clock
    readiness: Readiness
    metrics: WorkerMetrics
    max_body_bytes: int
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    # A request's span (and the W3C context its event carries on): shared.tracing.
    tracing: Tracing = field(default_factory=Tracing.off)


def create_app(parts: GatewayParts) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await parts.start()
        try:
            yield
        finally:
            await parts.stop()

    app = FastAPI(
        title="salesflow gateway",
        version="1",
        summary="Leads and commands over HTTP, published to salesflow's Kafka topics once.",
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    counted = Counter(
        "salesflow_gateway_requests_total",
        "Requests to the gateway by outcome: accepted, replayed (a retry), invalid, forbidden, "
        "unavailable; unauthenticated ones with principal and event_type '-'.",
        ["principal", "event_type", "outcome"],
        registry=parts.metrics.registry,
    )
    _install_error_handlers(app, counted)
    _install_authentication(app, parts, counted)

    commands = APIRouter(responses=dict.fromkeys((401, 403, 413, 415, 422, 503), PROBLEM_SCHEMA))
    for event_type in INBOUND_EVENT_TYPES:
        _add_command(commands, parts, counted, event_type)
    _add_lead_route(commands, parts, counted)
    app.include_router(commands)
    app.include_router(_reads(parts))
    _add_health(app, parts)
    return app


_DESCRIPTION = """
Post a lead (`POST /v1/leads`) or any inbound command (`POST /v1/commands/{event_type}`) as
JSON. The body is validated with salesflow's published contracts; a request that does not match
gets an RFC 9457 problem (`application/problem+json`) listing each error. An accepted request is
answered `202` with its event id once it is stored; it is then published to its Kafka topic
exactly as a Kafka producer would have, keyed by the deal.

Send an `Idempotency-Key` (any string up to 255 characters, e.g. a UUID) to retry safely: the
same key gives the same event id and is published once (`"replayed": true` on a retry); the same
key with another body is refused (`/problems/idempotency-key-reused`).

Authenticate with an API key (`Authorization: Bearer <key>` or `X-API-Key`) or sign a webhook
(`X-Salesflow-Client: <principal>`, `X-Salesflow-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`). Each client may send the event types it was given.
"""


def _add_command(router: APIRouter, parts: GatewayParts, counted: Counter, event_type: str) -> None:
    model = REQUEST_MODELS[event_type]
    topic = topic_for_event(event_type).name

    async def post(
        http: Request,
        body: model,  # type: ignore[valid-type]
        client: Annotated[Client, Depends(_may_send(event_type, counted))],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=MAX_IDEMPOTENCY_KEY,
                description="Retries with the same key are published once.",
            ),
        ] = None,
    ) -> Response:
        request: CommandRequest = body
        return await _accept(
            parts,
            counted,
            client,
            event_type,
            request.payload,
            request.deal_id,
            request.occurred_at,
            idempotency_key,
            http,
        )

    router.add_api_route(
        f"{COMMANDS}/{event_type}",
        post,
        methods=["POST"],
        status_code=202,
        summary=f"Send {event_type} (to {topic})",
        operation_id=f"send_{event_type.replace('.', '_')}",
        tags=[topic],
        response_model=AcceptedBody,
    )


def _add_lead_route(router: APIRouter, parts: GatewayParts, counted: Counter) -> None:
    async def post_lead(
        http: Request,
        lead: LeadCaptured,
        client: Annotated[Client, Depends(_may_send("lead.captured", counted))],
        idempotency_key: Annotated[
            str | None,
            Header(alias="Idempotency-Key", min_length=1, max_length=MAX_IDEMPOTENCY_KEY),
        ] = None,
    ) -> Response:
        return await _accept(
            parts, counted, client, "lead.captured", lead, None, None, idempotency_key, http
        )

    router.add_api_route(
        LEADS,
        post_lead,
        methods=["POST"],
        status_code=202,
        summary="Capture a lead (the lead.captured payload; the lead id is the deal id)",
        operation_id="capture_lead",
        tags=["leads"],
        response_model=AcceptedBody,
    )


async def _accept(
    parts: GatewayParts,
    counted: Counter,
    client: Client,
    event_type: str,
    payload: Any,
    given_deal: str | None,
    occurred_at: Any,
    idempotency_key: str | None,
    http: Request,
) -> Response:
    now = parts.clock.now()
    try:
        deal_id = deal_of(payload, given_deal)
        envelope = envelope_of(
            event_type,
            payload,
            deal_id=deal_id,
            principal=client.principal,
            event_id=event_id_for(client.principal, idempotency_key),
            now=now,
            occurred_at=occurred_at,
        )
    except MissingDealError as error:
        counted.labels(client.principal, event_type, "invalid").inc()
        raise ProblemError(422, "missing-deal", str(error)) from None
    except ValidationError as error:
        counted.labels(client.principal, event_type, "invalid").inc()
        raise RequestValidationError(error.errors()) from None
    try:
        with parts.tracing.request(
            http.headers,
            f"gateway accept {event_type}",
            {
                "http.request.method": http.method,
                "url.path": http.url.path,
                "messaging.message.id": str(envelope.event_id),
                "salesflow.event_type": event_type,
                "salesflow.deal_id": deal_id,
                "salesflow.principal": client.principal,
            },
        ) as context:
            accepted = await parts.requests.accept(
                envelope,
                fingerprint=fingerprint(event_type, deal_id, payload, occurred_at),
                idempotency_key=idempotency_key,
                trace=context,
            )
    except KeyReusedError:
        counted.labels(client.principal, event_type, "invalid").inc()
        raise ProblemError(
            422,
            "idempotency-key-reused",
            "this Idempotency-Key was sent before with another request; use a new key",
        ) from None
    except Exception as error:
        if not is_transient(error):
            raise
        counted.labels(client.principal, event_type, "unavailable").inc()
        parts.readiness.set_database(ok=False, detail=describe(error))
        log.warning("gateway_unavailable", error=describe(error))
        raise ProblemError(
            503, "unavailable", "the database is not reachable; retry", **{"Retry-After": "1"}
        ) from None
    outcome = "replayed" if accepted.replayed else "accepted"
    counted.labels(client.principal, event_type, outcome).inc()
    log.info(
        "gateway_accepted",
        event_id=str(envelope.event_id),
        event_type=event_type,
        deal_id=deal_id,
        principal=client.principal,
        replayed=accepted.replayed,
    )
    body = AcceptedBody(
        event_id=str(envelope.event_id),
        event_type=event_type,
        deal_id=deal_id,
        topic=accepted.record.topic,
        replayed=accepted.replayed,
    )
    return Response(body.model_dump_json(), 202, media_type="application/json")


def _may_send(event_type: str, counted: Counter) -> Callable[[Request], Client]:
    def check(request: Request) -> Client:
        client: Client = request.state.client
        if not client.may_send(event_type):
            counted.labels(client.principal, event_type, "forbidden").inc()
            raise ProblemError(403, "forbidden", f"{client.principal} may not send {event_type}")
        return client

    return check


def _may_read(what: Read) -> Callable[[Request], Client]:
    def check(request: Request) -> Client:
        client: Client = request.state.client
        if not client.may_read(what):
            raise ProblemError(403, "forbidden", f"{client.principal} may not read {what}")
        return client

    return check


def _reads(parts: GatewayParts) -> APIRouter:
    router = APIRouter(tags=["reads"], responses=dict.fromkeys((401, 403, 404), PROBLEM_SCHEMA))

    @router.get(f"{API}/deals/{{ref}}/trace", summary="Every event of one deal, in order")
    async def trace(
        ref: str, _client: Annotated[Client, Depends(_may_read(Read.TRACE))]
    ) -> dict[str, Any]:
        """REF is the deal id, salesflow's order number or the ERP's (as `salesflow trace`)."""
        deal_id, found_by, events = await parts.reads.trace(ref)
        if not events:
            raise ProblemError(404, "not-found", f"no events for deal {deal_id}")
        return {
            "deal_id": deal_id,
            "found_by": found_by,
            "events": [_event_json(e) for e in events],
        }

    @router.get(f"{API}/receivables", summary="Receivables per account and currency, aged")
    async def receivables(
        _client: Annotated[Client, Depends(_may_read(Read.RECEIVABLES))],
        account: Annotated[str | None, Query(description="Account id or part of its name.")] = None,
        as_of: Annotated[date | None, Query(description="Default: today (UTC).")] = None,
        include_settled: Annotated[bool, Query(alias="all")] = False,
    ) -> Response:
        """As `salesflow receivables --format json`: amounts as decimal strings."""
        try:
            text = await parts.reads.receivables(account, as_of, include_settled)
        except LookupError as error:
            raise ProblemError(404, "not-found", str(error)) from None
        except ConnectionError as error:
            raise ProblemError(503, "unavailable", str(error), **{"Retry-After": "5"}) from None
        return Response(text, media_type="application/json")

    return router


def _event_json(event: TracedEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "topic": event.topic,
        "partition": event.partition,
        "offset": event.offset,
        "event_type": event.event_type,
        "event_id": event.event_id,
        "producer": event.producer,
        "causation_id": event.causation_id,
        "summary": event.summary,
        "problem": event.problem,
    }


def _add_health(app: FastAPI, parts: GatewayParts) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, bool]:
        return {"alive": True}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        status = 200 if parts.readiness.ready else 503
        return Response(parts.readiness.as_json(), status, media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(parts.metrics.render(), media_type="text/plain; version=0.0.4")


def _install_authentication(app: FastAPI, parts: GatewayParts, counted: Counter) -> None:
    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Before anything else reads the body: who is asking decides whether it is read at all.
        if not request.url.path.startswith(API + "/"):
            return await call_next(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > parts.max_body_bytes:
            return problem(413, "too-large", f"at most {parts.max_body_bytes} bytes")
        if request.method == "POST" and not _is_json(request.headers.get("content-type", "")):
            return problem(415, "not-json", "send the body as Content-Type: application/json")
        body = await request.body()
        if len(body) > parts.max_body_bytes:
            return problem(413, "too-large", f"at most {parts.max_body_bytes} bytes")
        found = parts.clients.authenticate(request.headers, body, time.time())
        if isinstance(found, Denied):
            log.info("gateway_refused", reason=found.reason, path=request.url.path)
            counted.labels("-", "-", "unauthenticated").inc()
            return problem(
                401,
                "unauthenticated",
                found.detail,
                headers={"WWW-Authenticate": 'Bearer realm="salesflow"'},
            )
        request.state.client = found
        return await call_next(request)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _install_error_handlers(app: FastAPI, counted: Counter) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, error: ProblemError) -> Response:
        return problem(
            error.status,
            error.kind,
            error.detail,
            instance=request.url.path,
            headers=error.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Response:
        errors = list(error.errors())
        not_json = any(e.get("type") == "json_invalid" for e in errors)
        client = getattr(request.state, "client", None)
        if client is not None:
            event_type = request.url.path.rsplit("/", 1)[-1]
            kind = "lead.captured" if request.url.path == LEADS else event_type
            counted.labels(client.principal, kind, "invalid").inc()
        return problem(
            422,
            "not-json" if not_json else "invalid-payload",
            f"{len(errors)} error(s) in the request",
            instance=request.url.path,
            errors=validation_errors(errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404 and request.url.path.startswith(COMMANDS + "/"):
            return problem(
                404,
                "unknown-event-type",
                "inbound event types: " + ", ".join(INBOUND_EVENT_TYPES),
                instance=request.url.path,
            )
        kind = "not-found" if error.status_code == 404 else "invalid-payload"
        return problem(error.status_code, kind, str(error.detail), instance=request.url.path)
