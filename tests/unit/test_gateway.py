"""The gateway without servers: who is let in, what a request becomes, the routes and the
OpenAPI document derived from the topic map, and problems for what is refused before any I/O."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from contracts.registry import payload_type
from contracts.topics import ALL_TOPICS, TopicKind
from gateway.clients import Client, Clients, Denied, Read, Refused, sign
from gateway.commands import (
    INBOUND_EVENT_TYPES,
    MissingDealError,
    deal_of,
    event_id_for,
    fingerprint,
)
from gateway.main import build_gateway
from gateway.settings import GatewaySettings
from shared.settings import RuntimeSettings
from tests.contract.payload_examples import EXAMPLES

NOW = 1_800_000_000.0
BODY = b'{"lead_id": "L-1"}'


def _clients() -> Clients:
    return Clients(
        [
            Client(principal="web", api_key=SecretStr("k1"), event_types=("lead.*",)),
            Client(
                principal="hashed",
                api_key_sha256=hashlib.sha256(b"k2").hexdigest(),
                event_types=("invoice.record_payment",),
                reads=(Read.TRACE,),
            ),
            Client(principal="erp", webhook_secret=SecretStr("s3"), event_types=("invoice.*",)),
        ],
        tolerance_s=300,
    )


def test_api_keys_and_their_digests_let_their_clients_in() -> None:
    clients = _clients()
    web = clients.authenticate({"authorization": "Bearer k1"}, BODY, NOW)
    hashed = clients.authenticate({"x-api-key": "k2"}, BODY, NOW)
    assert isinstance(web, Client) and web.principal == "web"
    assert isinstance(hashed, Client) and hashed.principal == "hashed"
    assert web.may_send("lead.qualify") and not web.may_send("quote.accept")
    assert hashed.may_read(Read.TRACE) and not hashed.may_read(Read.RECEIVABLES)
    unknown = clients.authenticate({"authorization": "Bearer nope"}, BODY, NOW)
    assert isinstance(unknown, Denied) and unknown.reason is Refused.UNKNOWN_KEY
    nothing = clients.authenticate({}, BODY, NOW)
    assert isinstance(nothing, Denied) and nothing.reason is Refused.NO_CREDENTIALS


def test_a_webhook_must_be_signed_over_its_body_and_recently() -> None:
    clients = _clients()

    def signed(secret: str, at: float, body: bytes = BODY) -> Client | Denied:
        headers = {
            "x-salesflow-client": "erp",
            "x-salesflow-signature": sign(secret, BODY, int(at)),
        }
        return clients.authenticate(headers, body, NOW)

    good = signed("s3", NOW - 10)
    assert isinstance(good, Client) and good.principal == "erp"
    reasons = [
        result.reason
        for result in (
            signed("wrong", NOW),
            signed("s3", NOW, body=b'{"lead_id": "L-2"}'),
            signed("s3", NOW - 301),
        )
        if isinstance(result, Denied)
    ]
    assert reasons == [Refused.BAD_SIGNATURE, Refused.BAD_SIGNATURE, Refused.STALE_SIGNATURE]
    garbled = clients.authenticate(
        {"x-salesflow-client": "erp", "x-salesflow-signature": "v1=abc"}, BODY, NOW
    )
    assert isinstance(garbled, Denied) and garbled.reason is Refused.BAD_SIGNATURE


def test_a_client_has_exactly_one_credential_and_keys_are_not_shared() -> None:
    with pytest.raises(ValidationError, match="exactly one credential"):
        Client(principal="x", api_key=SecretStr("a"), webhook_secret=SecretStr("b"))
    with pytest.raises(ValidationError, match="exactly one credential"):
        Client(principal="x")
    with pytest.raises(ValueError, match="share an API key"):
        Clients(
            [
                Client(principal="a", api_key=SecretStr("k")),
                Client(principal="b", api_key=SecretStr("k")),
            ],
            tolerance_s=1,
        )
    listed = Client.list_from_json(b'[{"principal": "p", "api_key": "k", "event_types": ["*"]}]')
    assert listed[0].may_send("order.cancel")


def test_the_inbound_event_types_are_the_topic_maps() -> None:
    inbound = {t for s in ALL_TOPICS if s.kind is TopicKind.INBOUND for t in s.event_types}
    assert set(INBOUND_EVENT_TYPES) == inbound
    assert len(INBOUND_EVENT_TYPES) == len(inbound) == 31


def test_the_deal_is_given_or_named_by_the_payload() -> None:
    examples: dict[str, Any] = dict(EXAMPLES)
    assert deal_of(examples["lead.captured"], None) == examples["lead.captured"].lead_id
    assert deal_of(examples["lead.captured"], "D-9") == "D-9"
    assert deal_of(examples["catalog.price_upserted"], None) == (
        examples["catalog.price_upserted"].price_list_id
    )
    with pytest.raises(MissingDealError):
        deal_of(examples["quote.accept"], None)


def test_the_same_key_gives_the_same_event_id_per_client() -> None:
    first = event_id_for("web", "key-1")
    assert first == event_id_for("web", "key-1")
    assert first != event_id_for("other", "key-1") != event_id_for("web", "key-2")
    assert event_id_for("web", None) != event_id_for("web", None)
    assert first.version == 5


def test_a_fingerprint_tells_a_retry_from_another_request() -> None:
    lead = EXAMPLES["lead.captured"]
    at = datetime(2026, 12, 1, tzinfo=UTC)
    same = fingerprint("lead.captured", "L-1", lead, None)
    assert same == fingerprint("lead.captured", "L-1", lead, None)
    assert same != fingerprint("lead.captured", "L-2", lead, None)
    assert same != fingerprint("lead.captured", "L-1", lead, at)
    changed = lead.model_copy(update={"topic": "other"})
    assert same != fingerprint("lead.captured", "L-1", changed, None)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Built, never started (no lifespan): nothing below reaches a database or a broker.
    runtime = RuntimeSettings.model_validate(
        {"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    )
    settings = GatewaySettings.model_validate(
        {
            "clients": [{"principal": "web", "api_key": "k1", "event_types": ["lead.*"]}],
            "max_body_bytes": 2048,
        }
    )
    transport = httpx.ASGITransport(app=build_gateway(runtime, settings).app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_every_inbound_event_type_has_a_documented_route(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    for event_type in INBOUND_EVENT_TYPES:
        operation = document["paths"][f"/v1/commands/{event_type}"]["post"]
        assert {"202", "401", "403", "422"} <= set(operation["responses"])
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    schemas = document["components"]["schemas"]
    assert payload_type("quote.accept").__name__ in schemas
    assert "/v1/leads" in document["paths"]


async def test_refusals_before_any_io_are_problems(http: httpx.AsyncClient) -> None:
    key = {"Authorization": "Bearer k1"}
    cases = {
        "no key": await http.post("/v1/leads", json={}),
        "wrong key": await http.post("/v1/leads", json={}, headers={"X-API-Key": "k0"}),
        "forbidden": await http.post("/v1/commands/order.cancel", json={}, headers=key),
        "invalid": await http.post("/v1/commands/lead.qualify", json={"payload": {}}, headers=key),
        "form": await http.post("/v1/leads", content=b"a=1", headers=key),
        "too large": await http.post("/v1/leads", json={"x": "y" * 4000}, headers=key),
        "unknown": await http.post("/v1/commands/lead.promote", json={}, headers=key),
    }
    found = {name: (r.status_code, r.json()["type"]) for name, r in cases.items()}
    assert found == {
        "no key": (401, "/problems/unauthenticated"),
        "wrong key": (401, "/problems/unauthenticated"),
        "forbidden": (403, "/problems/forbidden"),
        "invalid": (422, "/problems/invalid-payload"),
        "form": (415, "/problems/not-json"),
        "too large": (413, "/problems/too-large"),
        "unknown": (404, "/problems/unknown-event-type"),
    }
    assert all(r.headers["content-type"] == "application/problem+json" for r in cases.values())
    assert (await http.get("/healthz")).json() == {"alive": True}
    assert (await http.get("/readyz")).status_code == 503, "not started"
