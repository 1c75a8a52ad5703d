"""Every kind of poison message, and the answer each must get.

For each service, a seeded pick of its input topics receives: bytes that are not JSON, JSON of
the wrong types, an unknown event type, an event type its topic does not carry, a non-UTF-8 and
a null header value, an oversized record, a key and a header that contradict the body (all of
them to the dead-letter topic, with the reason named here), and a business-invalid command (a
`<stage>.rejected` answer). Each record is remembered with its partition and offset, which the
dead-letter entry must name.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.invoices import CancelInvoice
from contracts.leads import QualifyLead
from contracts.orders import CancelOrder
from contracts.quotes import AcceptQuote
from shared import kafka_clients

PRODUCER = "chaos-poison"
OVERSIZED_BYTES = 300_000  # above the workers' 262144 limit, below the broker's 1 MB

# service -> (commands topic, the topics it consumes that take any poison)
INPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lead_svc": ("lead.commands", ("lead.captured", "lead.commands")),
    "quote_svc": ("quote.commands", ("lead.qualified", "quote.commands")),
    "order_svc": ("order.commands", ("quote.accepted", "order.commands", "invoice.posted")),
    "invoice_svc": ("invoice.commands", ("order.confirmed", "order.cancelled", "invoice.commands")),
}
SERVICE_ORDER = tuple(INPUTS)


@dataclass(frozen=True)
class PoisonRecord:
    kind: str
    service: str  # the consumer that must answer
    topic: str
    key: str
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    event_id: uuid.UUID | None  # of a well-formed envelope inside, if any
    expect: str  # "dlq:<reason>" or "rejected"
    partition: int = -1
    offset: int = -1


def _invalid_command(service: str, deal: str) -> Envelope[Any]:
    """A well-formed command naming a subject that does not exist: refused by the business."""
    now = datetime.now(UTC)
    payload: Any
    if service == "lead_svc":
        payload, event_type = (
            QualifyLead(lead_id=deal, requested_by="chaos", note=None),
            ("lead.qualify"),
        )
    elif service == "quote_svc":
        payload = AcceptQuote(quote_id=uuid.uuid4(), accepted_by="chaos", customer_po=None)
        event_type = "quote.accept"
    elif service == "order_svc":
        payload = CancelOrder(order_id=uuid.uuid4(), reason="chaos", requested_by="chaos")
        event_type = "order.cancel"
    else:
        payload = CancelInvoice(invoice_id=uuid.uuid4(), reason="chaos", requested_by="chaos")
        event_type = "invoice.cancel"
    return make_envelope(
        payload, event_type=event_type, deal_id=deal, producer=PRODUCER, occurred_at=now
    )


def plan(run_id: str, batch: int, seed: int) -> list[PoisonRecord]:
    rng = random.Random(f"{seed}:poison:{batch}")
    records: list[PoisonRecord] = []
    n = 0

    def deal() -> str:
        nonlocal n
        n += 1
        return f"poison-{run_id}-{batch}-{n:03d}"

    for service in SERVICE_ORDER:
        commands, topics = INPUTS[service]
        other = SERVICE_ORDER[(SERVICE_ORDER.index(service) + 1) % len(SERVICE_ORDER)]

        def add(
            kind: str,
            topic: str,
            key: str,
            value: bytes | None,
            headers: tuple[tuple[str, bytes | None], ...],
            expect: str,
            event_id: uuid.UUID | None = None,
            service: str = service,
        ) -> None:
            records.append(
                PoisonRecord(kind, service, topic, key, value, headers, event_id, expect)
            )

        d = deal()
        add("not_json", rng.choice(topics), d, b"\x00\x01 this is not json {", (), "dlq:not_json")
        d = deal()
        wrong = _invalid_command(service, d).model_dump(mode="json")
        wrong["payload"] = {"lead_id": 42, "quote_id": ["x"], "order_id": {"a": 1}}
        wrong["schema_version"] = "one"
        add("wrong_types", commands, d, orjson.dumps(wrong), (), "dlq:schema_violation")
        d = deal()
        unknown = _invalid_command(service, d).model_dump(mode="json")
        unknown["event_type"] = "deal.teleported"
        add(
            "unknown_event_type",
            rng.choice(topics),
            d,
            orjson.dumps(unknown),
            (),
            "dlq:unknown_event_type",
        )
        d = deal()
        misplaced = _invalid_command(other, d)
        add(
            "misplaced_event_type",
            commands,
            d,
            encode(misplaced),
            tuple(kafka_headers(misplaced)),
            "dlq:unexpected_event_type",
            misplaced.event_id,
        )
        for kind, bad in (("non_utf8_header", b"\xff\xfe\xfd"), ("null_header", None)):
            d = deal()
            env = _invalid_command(service, d)
            add(
                kind,
                commands,
                d,
                encode(env),
                (*kafka_headers(env), ("x-origin", bad)),
                "dlq:bad_header",
                env.event_id,
            )
        d = deal()
        big = b'{"pad": "' + b"x" * OVERSIZED_BYTES + b'"}'
        add("oversized", rng.choice(topics), d, big, (), "dlq:oversized")
        d = deal()
        env = _invalid_command(service, d)
        add(
            "key_mismatch",
            commands,
            f"{d}-elsewhere",
            encode(env),
            tuple(kafka_headers(env)),
            "dlq:key_mismatch",
            env.event_id,
        )
        d = deal()
        env = _invalid_command(service, d)
        lying = tuple(
            (k, b"somebody.else" if k == "event_type" else v) for k, v in kafka_headers(env)
        )
        add("header_mismatch", commands, d, encode(env), lying, "dlq:header_mismatch", env.event_id)
        d = deal()
        env = _invalid_command(service, d)
        add(
            "business_invalid",
            commands,
            d,
            encode(env),
            tuple(kafka_headers(env)),
            "rejected",
            env.event_id,
        )
    return records


async def publish(bootstrap: str, records: list[PoisonRecord]) -> list[PoisonRecord]:
    """Publish and return the records with the partition and offset the broker gave them."""
    producer = kafka_clients.producer(
        bootstrap, acks="all", enable_idempotence=True, max_request_size=1048576
    )
    await producer.start()
    try:
        placed = []
        for record in records:
            meta = await producer.send_and_wait(
                record.topic, record.value, key=record.key.encode(), headers=list(record.headers)
            )
            placed.append(replace(record, partition=meta.partition, offset=meta.offset))
        return placed
    finally:
        await producer.stop()
