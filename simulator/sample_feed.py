"""A small, seeded feed of sample leads that shows what lead_svc does with each kind.

It plays the upstream systems: publishes captured leads (fitting, unreachable, duplicates,
leads left open for a person), then the people's decisions on the open ones (qualify,
disqualify, and a refused command), and a few poison messages; then it reads the outcome
topics and reports what happened to every lead. Any Kafka client can do the same: the
payloads are plain JSON envelopes keyed by the deal id.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.envelope import Envelope, decode, encode, kafka_headers, make_envelope
from contracts.leads import (
    ContactInfo,
    DisqualifyLead,
    DisqualifyReason,
    LeadCaptured,
    LeadSource,
    ProductInterest,
    PurchaseTimeframe,
    QualifyLead,
)
from shared import kafka_clients
from shared.topic_partitions import topic_partitions

OUTCOME_TOPICS = ("lead.qualified", "lead.disqualified", "lead.rejected", "lead_svc.dlq")
PRODUCER = "sample-feed"

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Tim")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Perlis")
_COMPANIES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent",
    "Tyrell",
)
_SKUS = ("SKU-1001", "SKU-1002", "SKU-2001", "SKU-3005", "SKU-4000")


@dataclass(frozen=True)
class PlannedLead:
    kind: str  # fit | unreachable | duplicate | open_then_qualify | open_then_disqualify
    envelope: Envelope[Any]


@dataclass
class FeedReport:
    planned: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    expected_events: int = 0
    received_events: int = 0
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.received_events >= self.expected_events

    def render(self) -> str:
        lines = ["sample feed", "  published:"]
        lines += [f"    {kind:<24} {n:>5}" for kind, n in sorted(self.planned.items())]
        lines.append("  outcomes:")
        lines += [f"    {kind:<40} {n:>5}" for kind, n in sorted(self.outcomes.items())]
        lines.append(
            f"  {self.received_events}/{self.expected_events} expected events in "
            f"{self.seconds:.1f}s: {'complete' if self.complete else 'INCOMPLETE'}"
        )
        return "\n".join(lines)


def plan_leads(count: int, seed: int, now: datetime) -> list[PlannedLead]:
    """Deterministic mix: ~60% fit, 10% unreachable, 10% duplicates, 20% left open."""
    rng = random.Random(seed)
    # Decisions replay from the seed; lead ids are fresh per run so a second run is not refused
    # as re-captures of the first one's leads.
    run = uuid.uuid4().hex[:8]
    planned: list[PlannedLead] = []
    fit_contacts: list[tuple[str, ContactInfo]] = []
    for i in range(count):
        roll = rng.random()
        lead_id = f"lead-{run}-{i:05d}"
        # Names are unique per lead so only the planned duplicates match another lead.
        first, last = rng.choice(_FIRST), f"{rng.choice(_LAST)}-{i}"
        company = f"{rng.choice(_COMPANIES)} {run}"
        email = f"{first}.{last}.{i}@{run}.example.com".lower()
        contact = ContactInfo(first_name=first, last_name=last, email=email, phone=None)
        interests = tuple(
            ProductInterest(sku=rng.choice(_SKUS), quantity=Decimal(rng.randint(1, 20)))
            for _ in range(rng.randint(1, 3))
        )
        timeframe = PurchaseTimeframe.THIS_QUARTER
        if roll < 0.6 or (roll >= 0.8 and not fit_contacts):
            kind = "fit"
            fit_contacts.append((company, contact))
        elif roll < 0.7:
            kind = "unreachable"
            contact = ContactInfo(first_name=first, last_name=last, email=None, phone=None)
        elif roll < 0.8 and fit_contacts:
            kind = "duplicate"
            company, contact = rng.choice(fit_contacts)
        else:
            kind = rng.choice(("open_then_qualify", "open_then_disqualify"))
            interests = ()
            timeframe = PurchaseTimeframe.UNKNOWN
        payload = LeadCaptured(
            lead_id=lead_id,
            source=rng.choice(list(LeadSource)),
            company_name=company,
            contact=contact,
            topic=f"{sum(i.quantity for i in interests) or 'some'} units for {company}",
            budget_amount=Decimal(rng.randint(5, 500) * 100),
            currency="EUR",
            purchase_timeframe=timeframe,
            product_interests=interests,
            estimated_amount=None,
            estimated_close_date=None,
            notes=None,
        )
        envelope = make_envelope(
            payload, event_type="lead.captured", deal_id=lead_id, producer=PRODUCER, occurred_at=now
        )
        planned.append(PlannedLead(kind, envelope))
    return planned


def plan_decisions(planned: list[PlannedLead], now: datetime) -> list[Envelope[Any]]:
    """The people's decisions on open leads, and one command that must be refused."""
    commands: list[Envelope[Any]] = []
    for lead in planned:
        lead_id = lead.envelope.deal_id
        if lead.kind == "open_then_qualify":
            payload: Any = QualifyLead(lead_id=lead_id, requested_by="sales.rep", note=None)
            event_type = "lead.qualify"
        elif lead.kind == "open_then_disqualify":
            payload = DisqualifyLead(
                lead_id=lead_id,
                reason=DisqualifyReason.NO_LONGER_INTERESTED,
                requested_by="sales.rep",
                note="budget frozen",
            )
            event_type = "lead.disqualify"
        else:
            continue
        commands.append(
            make_envelope(
                payload, event_type=event_type, deal_id=lead_id, producer=PRODUCER, occurred_at=now
            )
        )
    fit = next((lead for lead in planned if lead.kind == "fit"), None)
    if fit is not None:  # a qualified lead has an opportunity: disqualifying it is refused
        commands.append(
            make_envelope(
                DisqualifyLead(
                    lead_id=fit.envelope.deal_id,
                    reason=DisqualifyReason.LOST,
                    requested_by="sales.rep",
                    note=None,
                ),
                event_type="lead.disqualify",
                deal_id=fit.envelope.deal_id,
                producer=PRODUCER,
                occurred_at=now,
            )
        )
    return commands


POISON: tuple[tuple[str, bytes, list[tuple[str, bytes]]], ...] = (
    ("not json", b"this is not json", []),
    ("unknown event type", orjson.dumps({"event_type": "lead.teleported", "payload": {}}), []),
    ("non-UTF-8 header", b"{}", [("source", b"\xff\xfe")]),
)


async def publish(producer: AIOKafkaProducer, topic: str, envelopes: list[Envelope[Any]]) -> None:
    deliveries = [
        await producer.send(topic, encode(e), key=e.deal_id.encode(), headers=kafka_headers(e))
        for e in envelopes
    ]
    await asyncio.gather(*deliveries)


async def run_feed(bootstrap: str, *, leads: int, seed: int, wait_s: float) -> FeedReport:
    started = time.monotonic()
    now = datetime.now(UTC)
    planned = plan_leads(leads, seed, now)
    decisions = plan_decisions(planned, now)
    report = FeedReport()
    report.planned.update(lead.kind for lead in planned)
    report.planned["poison messages"] = len(POISON)
    capture_events = sum(1 for lead in planned if not lead.kind.startswith("open"))
    report.expected_events = capture_events + len(decisions) + len(POISON)

    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    producer = kafka_clients.producer(bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        partitions = await topic_partitions(bootstrap, OUTCOME_TOPICS)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        ours = {lead.envelope.deal_id for lead in planned}

        await publish(producer, "lead.captured", [lead.envelope for lead in planned])
        for _, value, headers in POISON:
            await producer.send_and_wait("lead.captured", value, key=b"poison", headers=headers)
        await _collect(consumer, report, ours, capture_events + len(POISON), started + wait_s)
        # Commands travel on another topic than the captures: publish them once the leads exist.
        await asyncio.sleep(1.0)
        await publish(producer, "lead.commands", decisions)
        await _collect(consumer, report, ours, report.expected_events, started + wait_s)
    finally:
        await producer.stop()
        await consumer.stop()
    report.seconds = time.monotonic() - started
    return report


async def _collect(
    consumer: AIOKafkaConsumer, report: FeedReport, ours: set[str], until: int, deadline: float
) -> None:
    while report.received_events < until and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                if record.topic.endswith(".dlq"):
                    if record.key != b"poison":
                        continue
                    reason = dict(record.headers).get("dlq.reason", b"?").decode()
                    report.outcomes[f"dead-lettered: {reason}"] += 1
                    report.received_events += 1
                    continue
                envelope = decode(record.value or b"")
                if envelope.deal_id not in ours:
                    continue
                report.received_events += 1
                payload = envelope.payload
                if record.topic == "lead.qualified":
                    report.outcomes[f"qualified by {payload.qualified_by.value}"] += 1
                elif record.topic == "lead.disqualified":
                    report.outcomes[f"disqualified: {payload.reason.value}"] += 1
                else:
                    report.outcomes[f"rejected: {payload.reason_code}"] += 1
