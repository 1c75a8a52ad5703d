"""lead_svc on real Kafka and PostgreSQL, in this process: outcomes, dedupe, poison, data errors."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import decode, encode, kafka_headers
from contracts.leads import PurchaseTimeframe
from tests.support.infra import Endpoints
from tests.support.kafka_probe import RawRecord, TopicReader, group_lag, header, publish, record_of
from tests.support.leads import captured, command, new_run_id
from tests.support.workers import lead_worker, wait_for

pytestmark = pytest.mark.integration

OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.rejected")


def _by_deal(records: list[Any], deals: set[str]) -> list[Any]:
    return [r for r in records if r.key is not None and r.key.decode() in deals]


async def _leads_in_db(endpoints: Endpoints, ids: list[str]) -> dict[str, tuple[str, str]]:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT lead_id, state, status_reason FROM lead_svc.leads "
                    "WHERE lead_id = ANY(:ids)"
                ),
                {"ids": ids},
            )
            return {r.lead_id: (r.state, r.status_reason) for r in rows}
    finally:
        await engine.dispose()


async def test_captured_leads_come_out_qualified_or_disqualified(endpoints: Endpoints) -> None:
    run = new_run_id()
    fit = captured(f"fit-{run}", company=f"Globex {run}, Inc.")
    unreachable = captured(f"mute-{run}", email=None, phone=None)
    twin = captured(f"twin-{run}", email=fit.payload.contact.email)
    nurture = captured(f"open-{run}", interests=(), timeframe=PurchaseTimeframe.UNKNOWN)
    same_company = captured(f"fit2-{run}", company=f"GLOBEX {run} inc")
    deals = {e.deal_id for e in (fit, unreachable, twin, nurture, same_company)}

    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with lead_worker(endpoints):
            # Different deals sit on different partitions, in no mutual order: the twin and
            # the second lead of the same company are sent once the first one is decided.
            await publish(
                endpoints.kafka,
                [record_of("lead.captured", e) for e in (fit, unreachable, nurture)],
            )
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 2)
            await publish(
                endpoints.kafka,
                [
                    record_of("lead.captured", twin),
                    record_of("lead.captured", same_company),
                    record_of("lead.commands", command("lead.qualify", nurture.deal_id)),
                    record_of("lead.commands", command("lead.disqualify", fit.deal_id)),
                ],
            )
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 6)
            records = _by_deal(await reader.settle(1.0), deals)
    finally:
        await reader.stop()

    events = {(r.topic, r.key.decode()): decode(r.value) for r in records}
    assert len(records) == 6, [(r.topic, r.key) for r in records]
    q = events[("lead.qualified", fit.deal_id)]
    assert q.payload.qualified_by.value == "policy"
    assert q.payload.account_name == f"Globex {run}, Inc."
    assert q.payload.account_is_new is True
    assert q.payload.contact.email == fit.payload.contact.email
    assert q.causation_id == fit.event_id
    assert q.producer == "lead_svc"
    assert [i.sku for i in q.payload.product_interests] == ["SKU-1"]
    linked = events[("lead.qualified", same_company.deal_id)].payload
    assert linked.account_id == q.payload.account_id
    assert linked.account_is_new is False
    assert (
        events[("lead.disqualified", unreachable.deal_id)].payload.reason.value == "cannot_contact"
    )
    dup = events[("lead.disqualified", twin.deal_id)].payload
    assert (dup.reason.value, dup.duplicate_of) == ("duplicate", fit.deal_id)
    assert events[("lead.qualified", nurture.deal_id)].payload.qualified_by.value == "command"
    refused = events[("lead.rejected", fit.deal_id)].payload
    assert refused.reason_code == "opportunity_exists"
    assert refused.command_type == "lead.disqualify"

    assert await _leads_in_db(endpoints, sorted(deals)) == {
        fit.deal_id: ("qualified", "qualified"),
        unreachable.deal_id: ("disqualified", "cannot_contact"),
        twin.deal_id: ("disqualified", "duplicate"),
        nurture.deal_id: ("qualified", "qualified"),
        same_company.deal_id: ("qualified", "qualified"),
    }


async def test_the_same_event_delivered_twice_has_one_effect(endpoints: Endpoints) -> None:
    run = new_run_id()
    leads = [captured(f"dup-{run}-{i}") for i in range(20)]
    deals = {e.deal_id for e in leads}
    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with lead_worker(endpoints) as worker:
            first = [record_of("lead.captured", e) for e in leads]
            # Twice in one publish (same batch) and once more after processing (later batch).
            await publish(endpoints.kafka, first + first[:5])
            await reader.collect(lambda rs: len(_by_deal(rs, deals)) >= 20)
            await publish(endpoints.kafka, first[5:])
            await wait_for(
                lambda: _sample(worker, "salesflow_duplicates_dropped_total") >= 20,
                30,
                "20 duplicates dropped",
            )
            records = _by_deal(await reader.settle(1.5), deals)
    finally:
        await reader.stop()
    assert Counter(r.key.decode() for r in records) == dict.fromkeys(deals, 1)
    assert {r.topic for r in records} == {"lead.qualified"}


def _sample(worker: Any, name: str) -> float:
    total = 0.0
    for line in worker.metrics.render().decode().splitlines():
        if line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_poison_is_dead_lettered_with_its_reason_and_nothing_is_stuck(
    endpoints: Endpoints,
) -> None:
    run = new_run_id()
    good = [captured(f"ok-{run}-{i}") for i in range(30)]
    valid = record_of("lead.captured", good[0])
    body = orjson.loads(encode(good[1]))
    wrong_type = dict(body, payload=dict(body["payload"], budget_amount=12.5))
    missing = dict(body, payload={k: v for k, v in body["payload"].items() if k != "contact"})
    other = captured(f"other-{run}")
    poison = {
        "not_json": RawRecord("lead.captured", b"\x00\x01 not json", b"p-" + run.encode()),
        "schema_violation": RawRecord("lead.captured", orjson.dumps(wrong_type), valid.key),
        "schema_violation#2": RawRecord("lead.captured", orjson.dumps(missing), valid.key),
        "unknown_event_type": RawRecord(
            "lead.captured", orjson.dumps(dict(body, event_type="lead.beamed")), valid.key
        ),
        "unexpected_event_type": record_of("lead.commands", good[2]),
        "bad_header": RawRecord(
            "lead.captured", encode(other), other.deal_id.encode(), [("trace", b"\xff\xfe\xfd")]
        ),
        "bad_header#null": RawRecord(
            "lead.captured", encode(other), other.deal_id.encode(), [("trace", None)]
        ),
        "oversized": RawRecord("lead.captured", b"{" + b" " * 300_000 + b"}", valid.key),
        "key_mismatch": RawRecord(
            "lead.captured", encode(other), b"someone-else", kafka_headers(other)
        ),
        "header_mismatch": RawRecord(
            "lead.captured",
            encode(other),
            other.deal_id.encode(),
            [("event_type", b"lead.qualify")],
        ),
    }
    mixed = [record_of("lead.captured", e) for e in good[:15]]
    mixed += list(poison.values())
    mixed += [record_of("lead.captured", e) for e in good[15:]]
    deals = {e.deal_id for e in good}
    reader = await TopicReader(endpoints.kafka, (*OUTCOMES, "lead_svc.dlq")).start()
    try:
        async with lead_worker(endpoints):
            await publish(endpoints.kafka, mixed)

            def done(rs: list[Any]) -> bool:
                dlq = [r for r in rs if r.topic == "lead_svc.dlq"]
                return len(_by_deal(rs, deals)) >= 30 and len(dlq) >= len(poison)

            records = await reader.collect(done, timeout_s=60)
            records = await reader.settle(1.0)
            lag = await group_lag(endpoints.kafka, "lead_svc", ("lead.captured", "lead.commands"))
    finally:
        await reader.stop()
    outcomes = [r for r in _by_deal(records, deals) if r.topic != "lead_svc.dlq"]
    assert Counter(r.key.decode() for r in outcomes) == dict.fromkeys(deals, 1)
    dead = [r for r in records if r.topic == "lead_svc.dlq"]
    reasons = Counter(header(r, "dlq.reason") for r in dead)
    expected = Counter(name.split("#")[0] for name in poison)
    assert reasons == expected
    for record in dead:
        assert header(record, "dlq.source_topic") in {"lead.captured", "lead.commands"}
        assert header(record, "dlq.source_offset") is not None
        assert header(record, "dlq.error")
        assert header(record, "dlq.service") == "lead_svc"
    not_json = next(r for r in dead if header(r, "dlq.reason") == "not_json")
    assert not_json.value == b"\x00\x01 not json"  # the original bytes, untouched
    assert lag == 0


async def test_a_nul_character_is_refused_at_the_door_and_parked_alone(
    endpoints: Endpoints,
) -> None:
    """PostgreSQL cannot store NUL in text. It used to fail the batch in the database
    (replayed one by one, the guilty lead parked as processing_failed); the contracts now refuse
    NUL when the message is read (the schemas say so too), so the lead is parked as a
    schema_violation naming the field, and the batch's other leads go through untouched."""
    run = new_run_id()
    good = [captured(f"nul-ok-{run}-{i}") for i in range(10)]
    # what a producer that ignores the schema sends: the JSON escape of NUL in the company
    template = captured(f"nul-bad-{run}", company="EvilXCorp")
    value = encode(template).replace(b"EvilXCorp", b"Evil\\u0000Corp")
    bad = RawRecord("lead.captured", value, template.deal_id.encode(), kafka_headers(template))
    deals = {e.deal_id for e in good}
    reader = await TopicReader(endpoints.kafka, (*OUTCOMES, "lead_svc.dlq")).start()
    try:
        async with lead_worker(endpoints):
            await publish(
                endpoints.kafka,
                [
                    *(record_of("lead.captured", e) for e in good[:5]),
                    bad,
                    *(record_of("lead.captured", e) for e in good[5:]),
                ],
            )
            records = await reader.collect(
                lambda rs: (
                    len(_by_deal(rs, deals)) >= 10
                    and any(r.key == template.deal_id.encode() for r in rs)
                )
            )
            records = await reader.settle(1.0)
    finally:
        await reader.stop()
    assert Counter(r.key.decode() for r in _by_deal(records, deals)) == dict.fromkeys(deals, 1)
    parked = [r for r in records if r.key == template.deal_id.encode()]
    assert [(r.topic, header(r, "dlq.reason")) for r in parked] == [
        ("lead_svc.dlq", "schema_violation")
    ]
    error = header(parked[0], "dlq.error") or ""
    assert "NUL" in error
    assert "Evil" not in error  # the rule, never the value
    assert await _leads_in_db(endpoints, [template.deal_id]) == {}
