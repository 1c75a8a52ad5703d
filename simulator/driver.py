"""The lifecycle driver: plays everyone around salesflow and reports the funnel.

It publishes captured leads at a steady rate (the upstream systems), then reacts to what the
workers publish the way people and systems would: customers accept most issued quotes, reject
some, ask for a revision of some and let some lie (they expire after their validity); fulfilment
ships accepted orders, a few orders are cancelled; accounting pays most invoices, some only
partly, and in external invoicing mode it also registers the ERP's invoice for each confirmed
order. Every decision is drawn from a seeded generator, so a run can be replayed.

Decisions are drawn per deal (seed, deal number, what is decided), never from one shared stream,
so a deal decides the same way whatever order the events of all deals arrive in: a replayed
seed replays the same business, even when faults reorder the deliveries.

The demo prints its funnel; the benchmark and the fault-injection suite (`chaos/`) reuse the same
driver: offered rate for a duration, latency from lead.captured to invoice.posted, per-deal
outcomes, a per-second timeline of the events each service published, and the records it sent
(which the fault injector re-publishes as duplicates). It tolerates broker outages: a send that
fails is sent again (same bytes, same event id: the consumers' inboxes absorb any copy), and an
event delivered twice is reacted to once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from contracts.envelope import Envelope, decode, encode, kafka_headers
from contracts.leads import (
    ContactInfo,
    LeadCaptured,
    LeadSource,
    ProductInterest,
    PurchaseTimeframe,
)
from contracts.topics import topic as topic_spec
from simulator.customers import PRODUCER, Behaviour, Customers, Deal, envelope
from simulator.funnel import Funnel, percentiles

__all__ = [
    "PRODUCER",
    "WATCHED",
    "Behaviour",
    "Deal",
    "Funnel",
    "LifecycleDriver",
    "SentRecord",
    "percentiles",
]

WATCHED = (
    "lead.qualified",
    "lead.disqualified",
    "lead.rejected",
    "quote.issued",
    "quote.accepted",
    "quote.closed",
    "opportunity.closed",
    "quote.rejected",
    "order.confirmed",
    "order.fulfilled",
    "order.cancelled",
    "order.rejected",
    "invoice.posted",
    "invoice.paid",
    "invoice.cancelled",
    "invoice.rejected",
    "lead_svc.dlq",
    "quote_svc.dlq",
    "order_svc.dlq",
    "invoice_svc.dlq",
)
LEAD_DECIDED = "lead.qualified|lead.disqualified"
SKUS = ("SKU-1001", "SKU-1002", "SKU-2001", "SKU-3005", "SKU-4000")
_COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")


def captured_lead(
    rng: random.Random,
    *,
    lead_id: str,
    run_id: str,
    index: int,
    behaviour: Behaviour,
    emails: list[tuple[str, ContactInfo]],
) -> tuple[str, LeadCaptured]:
    """The `index`-th lead of a run and its kind: "fit", "unreachable" (no email or phone) or
    "duplicate" (the company and contact of an earlier fit lead, taken from `emails`, to which a
    fit lead is added)."""
    roll = rng.random()
    company = f"{rng.choice(_COMPANIES)} {run_id}-{index % 97}"
    contact = ContactInfo(
        first_name="Ada",
        last_name=f"Buyer-{index}",
        email=f"buyer{index}@{run_id}.example.com",
        phone=None,
    )
    kind = "fit"
    if roll < behaviour.unreachable:
        kind = "unreachable"
        contact = ContactInfo(first_name="Ada", last_name=f"Buyer-{index}", email=None, phone=None)
    elif roll < behaviour.unreachable + behaviour.duplicate and emails:
        kind = "duplicate"
        company, contact = rng.choice(emails)
    else:
        emails.append((company, contact))
    interests = tuple(
        ProductInterest(sku=sku, quantity=Decimal(rng.randint(1, 20)))
        for sku in rng.sample(SKUS, rng.randint(1, 3))
    )
    return kind, LeadCaptured(
        lead_id=lead_id,
        source=rng.choice(list(LeadSource)),
        company_name=company,
        contact=contact,
        topic="equipment",
        budget_amount=Decimal(5000),
        currency="EUR",
        purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        product_interests=interests,
        estimated_amount=None,
        estimated_close_date=None,
        notes=None,
    )


@dataclass(frozen=True)
class SentRecord:
    """A record as the driver published it: the exact bytes, for re-publishing a copy."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


class LifecycleDriver:
    def __init__(
        self,
        bootstrap: str,
        *,
        leads: int = 0,
        rate: float,
        seed: int,
        behaviour: Behaviour | None = None,
        idle_timeout_s: float = 30.0,
        duration_s: float | None = None,
        run_id: str | None = None,
        keep_recent: int = 0,
    ) -> None:
        """`leads` deals at `rate` per second, or `rate` x `duration_s` of them (steady load).

        `keep_recent` keeps that many of the last records sent and seen, as sent (for the fault
        injector's duplicates); `run_id` names the run's deals (`deal-<run_id>-<n>`)."""
        if duration_s is not None:
            leads = max(1, round(rate * duration_s))
        self._bootstrap = bootstrap
        self._leads = leads
        self._rate = rate
        self._seed = seed
        self.run_id = (
            run_id or uuid.UUID(int=random.Random(seed ^ time.time_ns()).getrandbits(128)).hex[:8]
        )
        self._b = behaviour or Behaviour()
        self._idle_timeout_s = idle_timeout_s
        self.deals: dict[str, Deal] = {}
        self.funnel = Funnel()
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[tuple[SentRecord, asyncio.Future[Any]]] = []
        self._people = Customers(self._b, seed, self.funnel, self._send)
        self._seen: set[str] = set()
        self._stop_feeding = False
        self.started = time.monotonic()
        # service -> second since start -> events it published that the driver saw first then
        self.timeline: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.redeliveries = 0  # records whose event id the driver had seen already
        self.send_retries = 0
        self.recent: deque[SentRecord] = deque(maxlen=max(keep_recent, 0))

    def stop_feeding(self) -> None:
        """Publish no more new leads; the run ends when the deals already started are done."""
        self._stop_feeding = True

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def run(self) -> Funnel:
        self.started = started = time.monotonic()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, max_poll_records=2000
        )
        await consumer.start()
        await self._start_producer()
        try:
            await consumer._client.force_metadata_update()
            parts = [
                TopicPartition(t, p)
                for t in WATCHED
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            consumer.assign(parts)
            for tp, offset in (await consumer.end_offsets(parts)).items():
                consumer.seek(tp, offset)
            feeder = asyncio.create_task(self._feed())
            last_progress = time.monotonic()
            while True:
                batches = await consumer.getmany(timeout_ms=100)
                seen = False
                for records in batches.values():
                    for record in records:
                        seen = True
                        await self._react(record)
                await self._flush()
                if seen:
                    last_progress = time.monotonic()
                if feeder.done() and self._all_done():
                    break
                if feeder.done() and time.monotonic() - last_progress > self._idle_timeout_s:
                    break
            await feeder
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush(), timeout=30)
            if self._producer is not None:
                await self._producer.stop()
            await consumer.stop()
        self.funnel.seconds = time.monotonic() - started
        stuck = [d for d in self.deals.values() if d.expect]
        self.funnel.incomplete = len(stuck)
        self.funnel.stuck = [
            f"{d.lead_id} expects {sorted(d.expect)} after {d.events}" for d in stuck
        ]
        return self.funnel

    def _all_done(self) -> bool:
        return len(self.deals) == self._leads and all(not d.expect for d in self.deals.values())

    # --- publishing ---------------------------------------------------------------------

    async def _start_producer(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        await self._producer.start()

    async def _send(self, topic: str, envelope: Envelope[Any]) -> None:
        record = SentRecord(
            topic,
            envelope.deal_id.encode(),
            encode(envelope),
            tuple(kafka_headers(envelope)),
        )
        self.recent.append(record)
        # Awaited before touching the list: a concurrent _flush swaps self._pending meanwhile.
        future = await self._submit(record)
        self._pending.append((record, future))

    async def _submit(self, record: SentRecord) -> asyncio.Future[Any]:
        """Hand the record to the producer, waiting out a broker outage (send() itself fails
        when it cannot learn the partition's leader in time)."""
        delay = 0.2
        while True:
            assert self._producer is not None
            try:
                future: asyncio.Future[Any] = await self._producer.send(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
            except KafkaError:
                self.send_retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                return future

    async def _flush(self) -> None:
        """Await every delivery; what failed is sent again (same bytes, same event id)."""
        failures = 0
        while self._pending:
            pending, self._pending = self._pending, []
            results = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
            failed = [
                record
                for (record, _), result in zip(pending, results, strict=True)
                if isinstance(result, BaseException)
            ]
            if not failed:
                continue
            failures += 1
            self.send_retries += len(failed)
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            if failures % 5 == 0:
                # An idempotent producer can end up fenced or out of sequence after the broker
                # lost its state: a fresh producer (new producer id) gets going again.
                old = self._producer
                await self._start_producer()
                if old is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(old.stop(), timeout=5)
            for record in failed:
                future = await self._submit(record)
                self._pending.append((record, future))

    async def _feed(self) -> None:
        interval = 1.0 / self._rate if self._rate > 0 else 0.0
        started = time.monotonic()
        emails: list[tuple[str, ContactInfo]] = []
        for i in range(self._leads):
            if self._stop_feeding:
                self._leads = i
                break
            lead_id = f"deal-{self.run_id}-{i:06d}"
            deal = Deal(lead_id, "fit", index=i, published_at=time.monotonic())
            rng = self._people.rng(deal, "lead")
            deal.kind, payload = captured_lead(
                rng, lead_id=lead_id, run_id=self.run_id, index=i, behaviour=self._b, emails=emails
            )
            # A duplicate and its original may be decided in either order (different partitions),
            # so the lead stage only has to decide, one way or the other.
            deal.expect = {LEAD_DECIDED}
            self.deals[lead_id] = deal
            await self._send("lead.captured", envelope(payload, "lead.captured", lead_id))
            self.funnel.counts["captured"] += 1
            if interval:
                delay = started + (i + 1) * interval - time.monotonic()
                if delay > 0:
                    await self._flush()
                    await asyncio.sleep(delay)
        await self._flush()

    # --- reacting -----------------------------------------------------------------------

    def _first_delivery(self, record: Any) -> tuple[bool, Envelope[Any] | None]:
        """Whether this is the record's first delivery (not a relay re-send or a re-published
        copy), and its envelope (None for a dead letter)."""
        if record.topic.endswith(".dlq"):
            source = {k: v for k, v in record.headers if k.startswith("dlq.source")}
            identity = f"{record.topic}:{sorted(source.items())}"
            env = None
        else:
            env = decode(record.value)
            identity = str(env.event_id)
        if identity in self._seen:
            self.redeliveries += 1
            return False, env
        self._seen.add(identity)
        owner = topic_spec(record.topic).owner
        self.timeline[owner][int(time.monotonic() - self.started)] += 1
        if env is not None:
            self.recent.append(
                SentRecord(record.topic, record.key, record.value, tuple(record.headers))
            )
        return True, env

    async def _react(self, record: Any) -> None:  # noqa: PLR0912 - one branch per event type
        deal_id = record.key.decode() if record.key else ""
        deal = self.deals.get(deal_id)
        if deal is None:
            return
        first, env = self._first_delivery(record)
        if not first:
            return
        if env is None:
            reason = dict(record.headers).get("dlq.reason", b"?").decode()
            self.funnel.dead_letters[f"{record.topic}:{reason}"] += 1
            deal.expect.clear()
            return
        et, p = env.event_type, env.payload
        deal.events.append(et)
        c = self.funnel.counts
        deal.expect.discard(et)
        if et in ("lead.qualified", "lead.disqualified"):
            deal.expect.discard(LEAD_DECIDED)
        if et == "lead.qualified":
            c["qualified"] += 1
            if "quote.issued" not in deal.events:  # another topic: it may be read first
                deal.expect.add("quote.issued")
        elif et == "lead.disqualified":
            c[f"disqualified:{p.reason.value}"] += 1
        elif et.endswith(".rejected"):
            c["rejected"] += 1
            deal.expect.clear()
        elif et == "quote.issued":
            await self._people.on_quote_issued(deal, env)
        elif et == "quote.accepted":
            c["quotes accepted"] += 1
            self.funnel.amounts["won"] += p.totals.grand_total
        elif et == "quote.closed":
            c["quotes revised" if p.status.value == "revised" else "quotes lost"] += 1
        elif et == "opportunity.closed":
            c[f"opportunities {p.outcome.value}"] += 1
        elif et == "order.confirmed":
            await self._people.on_order_confirmed(deal, env)
        elif et == "order.fulfilled":
            c["orders fulfilled"] += p.completeness.value == "complete"
        elif et == "order.cancelled":
            c["orders cancelled"] += 1
        elif et == "invoice.posted":
            await self._people.on_invoice_posted(deal, env)
        elif et == "invoice.paid":
            c["invoices paid" if p.status.value == "complete" else "invoices partly paid"] += 1
            self.funnel.amounts["paid"] += p.amount
        elif et == "invoice.cancelled":
            c["invoices cancelled"] += 1
            self.funnel.amounts["invoice cancelled"] += self._people.invoiced.get(p.invoice_id, 0)
        if not deal.expect and deal.done_at is None:
            deal.done_at = time.monotonic()
