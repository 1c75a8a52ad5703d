"""The HTTP gateway against the real stack, spoken to with an HTTP client: a lead posted over
HTTP comes out qualified; a retry with the same key is published once; bad payloads get problem
details; wrong credentials 401, a type the client was not given 403; a gateway killed between
its database commit and the relay still delivers the request exactly once after a restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from contracts.envelope import decode
from gateway.clients import sign
from gateway.commands import event_id_for
from tests.support.gateway import ERP_SECRET, READER_KEY, WEB_KEY, GatewayProcess
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, header
from tests.support.leads import captured, new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

WEB = {"Authorization": f"Bearer {WEB_KEY}"}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def gateway(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(endpoints, tmp_path_factory.mktemp("gateway") / "gateway.log")
    process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        assert process.terminate() == 0, process.tail()


def lead_body(lead_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = captured(lead_id).payload.model_dump(mode="json")
    body.update(changes)
    return body


def _deal(record: Any) -> str:
    return str((record.key or b"").decode())


async def test_a_lead_posted_over_http_comes_out_qualified(
    endpoints: Endpoints, gateway: GatewayProcess
) -> None:
    lead_id = f"gw-{new_run_id()}"
    reader = await TopicReader(endpoints.kafka, ("lead.qualified",)).start()
    try:
        async with lead_worker(endpoints), httpx.AsyncClient(base_url=gateway.url) as http:
            answer = await http.post("/v1/leads", json=lead_body(lead_id), headers=WEB)
            assert answer.status_code == 202, answer.text
            accepted = answer.json()
            assert accepted["deal_id"] == lead_id
            assert accepted["topic"] == "lead.captured"
            records = await reader.collect(lambda rs: any(_deal(r) == lead_id for r in rs))
            trace = await http.get(f"/v1/deals/{lead_id}/trace", headers=WEB)
    finally:
        await reader.stop()
    (qualified,) = [decode(r.value) for r in records if _deal(r) == lead_id]
    assert str(qualified.causation_id) == accepted["event_id"]
    assert trace.status_code == 200, trace.text
    events = trace.json()["events"]
    assert [e["event_type"] for e in events] == ["lead.captured", "lead.qualified"]
    assert events[0]["producer"] == "web-forms", "the client's principal is the producer"
    assert events[0]["event_id"] == accepted["event_id"]


async def test_a_retry_with_the_same_key_is_published_once(
    endpoints: Endpoints, gateway: GatewayProcess
) -> None:
    lead_id = f"gw-{new_run_id()}"
    key = {"Idempotency-Key": str(uuid.uuid4()), **WEB}
    reader = await TopicReader(endpoints.kafka, ("lead.captured",)).start()
    try:
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            first = await http.post("/v1/leads", json=lead_body(lead_id), headers=key)
            # Retries, some at the same time (a client that timed out and a proxy that retried).
            retries = await asyncio.gather(
                *(http.post("/v1/leads", json=lead_body(lead_id), headers=key) for _ in range(5))
            )
            other = await http.post(
                "/v1/leads", json=lead_body(lead_id, topic="something else"), headers=key
            )
        await reader.collect(lambda rs: any(_deal(r) == lead_id for r in rs))
        records = await reader.settle(2.0)
    finally:
        await reader.stop()
    assert first.status_code == 202, first.text
    assert first.json()["replayed"] is False
    assert {r.status_code for r in retries} == {202}
    assert {r.json()["event_id"] for r in retries} == {first.json()["event_id"]}
    assert all(r.json()["replayed"] for r in retries)
    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    ours = [r for r in records if _deal(r) == lead_id]
    assert len(ours) == 1, "published once"
    assert header(ours[0], "event_id") == first.json()["event_id"]
    # The gateway's outbox goes through the same relay: a CloudEvent in binary mode.
    assert header(ours[0], "ce_id") == first.json()["event_id"]
    assert header(ours[0], "ce_type") == "com.salesflow.lead.captured"
    assert header(ours[0], "ce_subject") == lead_id


async def test_bad_requests_get_problem_details(gateway: GatewayProcess) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        bad = await http.post(
            "/v1/leads", json=lead_body("gw-bad", currency="EURO", budget_amount=12.5), headers=WEB
        )
        extra = await http.post("/v1/leads", json=lead_body("gw-bad", extra_field=1), headers=WEB)
        not_json = await http.post(
            "/v1/leads", content=b"{nope", headers={"Content-Type": "application/json", **WEB}
        )
        form = await http.post("/v1/leads", content=b"{}", headers=WEB)
        unknown = await http.post("/v1/commands/lead.promote", json={}, headers=WEB)
        no_deal = await http.post(
            "/v1/commands/invoice.cancel",
            content=(body := orjson.dumps({"payload": {"invoice_id": str(uuid.uuid4())}})),
            headers=_signed(body),
        )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    problem = bad.json()
    assert problem["type"] == "/problems/invalid-payload"
    assert problem["status"] == 422
    assert {e["pointer"] for e in problem["errors"]} == {"/currency", "/budget_amount"}
    assert [e["pointer"] for e in extra.json()["errors"]] == ["/extra_field"], "strict producer"
    assert "EURO" not in bad.text, "the input is never echoed"
    assert (not_json.status_code, not_json.json()["type"]) == (422, "/problems/not-json")
    assert (form.status_code, form.json()["type"]) == (415, "/problems/not-json")
    assert (unknown.status_code, unknown.json()["type"]) == (404, "/problems/unknown-event-type")
    assert no_deal.status_code == 422, no_deal.text
    assert no_deal.json()["type"] in {"/problems/missing-deal", "/problems/invalid-payload"}


def _signed(body: bytes, *, secret: str = ERP_SECRET, at: float | None = None) -> dict[str, str]:
    stamp = int(time.time() if at is None else at)
    return {
        "X-Salesflow-Client": "erp",
        "X-Salesflow-Signature": sign(secret, body, stamp),
        "Content-Type": "application/json",
    }


async def test_credentials_are_checked_and_each_client_sends_only_its_types(
    gateway: GatewayProcess,
) -> None:
    body = orjson.dumps(lead_body(f"gw-{new_run_id()}"))
    reader_key = {"X-API-Key": READER_KEY}
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        wrong = await http.post("/v1/leads", json={}, headers={"Authorization": "Bearer no"})
        none = await http.post("/v1/leads", json={})
        forbidden = await http.post("/v1/commands/quote.accept", json={}, headers=WEB)
        reader_posts = await http.post("/v1/leads", json=lead_body("gw-x"), headers=reader_key)
        reader_reads = await http.get("/v1/deals/nobody-at-all/trace", headers=reader_key)
        reader_money = await http.get("/v1/receivables", headers=reader_key)
        money = await http.get("/v1/receivables", headers=WEB)
        signed = await http.post("/v1/leads", content=body, headers=_signed(body))
        forged = await http.post("/v1/leads", content=body, headers=_signed(body, secret="guess"))
        stale = await http.post(
            "/v1/leads", content=body, headers=_signed(body, at=time.time() - 3600)
        )
        tampered = await http.post(
            "/v1/leads", content=body.replace(b"widgets", b"gadgets"), headers=_signed(body)
        )
    assert (wrong.status_code, none.status_code) == (401, 401)
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json()["type"] == "/problems/unauthenticated"
    assert (forbidden.status_code, forbidden.json()["type"]) == (403, "/problems/forbidden")
    assert reader_posts.status_code == 403
    assert reader_reads.status_code == 404, "let in to read; nothing there"
    assert reader_money.status_code == 403
    assert money.status_code == 200
    assert set(money.json()) >= {"as_of", "receivables", "totals"}
    assert signed.status_code == 202, signed.text
    assert [r.status_code for r in (forged, stale, tampered)] == [401, 401, 401]


async def test_a_gateway_killed_between_commit_and_relay_delivers_once_after_restart(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    lead_id = f"gw-{new_run_id()}"
    key = str(uuid.uuid4())
    expected = str(event_id_for("web-forms", key))
    headers = {"Idempotency-Key": key, **WEB}
    reader = await TopicReader(endpoints.kafka, ("lead.captured",)).start()
    crashing = GatewayProcess(
        endpoints, tmp_path / "crashing.log", SALESFLOW_CRASH_POINT="after_db_commit"
    ).start()
    restarted: GatewayProcess | None = None
    try:
        await crashing.wait_ready()
        async with httpx.AsyncClient(base_url=crashing.url) as http:
            with pytest.raises(httpx.TransportError):
                await http.post("/v1/leads", json=lead_body(lead_id), headers=headers)
        assert await crashing.wait_exit(10) == -9, "SIGKILLed after its commit"
        restarted = GatewayProcess(endpoints, tmp_path / "restarted.log").start()
        await restarted.wait_ready()
        # The client retries, as a client whose connection broke does.
        async with httpx.AsyncClient(base_url=restarted.url) as http:
            retry = await http.post("/v1/leads", json=lead_body(lead_id), headers=headers)
        await reader.collect(lambda rs: any(_deal(r) == lead_id for r in rs), timeout_s=30)
        records = await reader.settle(3.0)
    finally:
        await reader.stop()
        crashing.terminate()
        if restarted is not None:
            assert restarted.terminate() == 0, restarted.tail()
    assert retry.status_code == 202, retry.text
    assert retry.json() == {
        "event_id": expected,
        "event_type": "lead.captured",
        "deal_id": lead_id,
        "topic": "lead.captured",
        "replayed": True,
    }
    ours = [r for r in records if _deal(r) == lead_id]
    assert [header(r, "event_id") for r in ours] == [expected], "delivered exactly once"
