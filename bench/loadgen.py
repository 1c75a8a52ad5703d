"""The load generator: the demo driver's deals and decisions, at rates the demo driver cannot offer.

`simulator.driver.LifecycleDriver` builds each lead with pydantic while it paces them and
validates every event it watches with pydantic (10-55 us each, about ten events per deal), in
the one event loop that must also keep the offered rate (see BENCHMARKS.md for its measured
ceiling). This generator plays the same people with the same deal mix (`Behaviour`: the same
probabilities of unreachable and duplicate leads, accepted, rejected, revised and ignored quotes,
cancelled orders, full and partial payments; decisions drawn per deal from the seed, as the driver
does) and builds its commands with the same contracts, but:

- leads are built before the clock starts (`build_leads`) and published pre-encoded, in paced
  slices of 5 ms;
- watched events are read with orjson (the few fields a person would look at), not re-validated;
- an optional cap on deals in flight turns the open loop into a closed one, which is how the
  maximum is found without building an unbounded backlog.

A deal is done when every event its decisions lead to was seen (the same expectations as the
driver's); its latency is from handing `lead.captured` to the producer to seeing `invoice.posted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from bench.kafka_io import Record
from bench.processes import cancel_and_wait
from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.invoices import RecordPayment
from contracts.leads import ContactInfo
from contracts.orders import CancelOrder, RecordFulfilment, ShippedLine
from contracts.quotes import (
    AcceptQuote,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)
from shared import kafka_clients
from shared.topic_partitions import topic_partitions
from simulator.driver import WATCHED, Behaviour, captured_lead

PRODUCER = "salesflow-bench"
SLICE_S = 0.005
LEAD_DECIDED = "lead.qualified|lead.disqualified"


@dataclass(frozen=True, slots=True)
class PreparedLead:
    lead_id: str
    index: int
    kind: str
    record: Record


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]


def _rng(seed: int, index: int, purpose: str) -> random.Random:
    return random.Random(f"{seed}:{index}:{purpose}")


def build_leads(
    count: int, *, seed: int, run_id: str, behaviour: Behaviour | None = None
) -> list[PreparedLead]:
    """`count` captured leads with fresh deal ids `deal-<run_id>-<n>`, the driver's mix."""
    b = behaviour or Behaviour()
    now = datetime.now(UTC)
    emails: list[tuple[str, ContactInfo]] = []
    leads: list[PreparedLead] = []
    for i in range(count):
        lead_id = f"deal-{run_id}-{i:06d}"
        rng = _rng(seed, i, "lead")
        kind, payload = captured_lead(
            rng, lead_id=lead_id, run_id=run_id, index=i, behaviour=b, emails=emails
        )
        envelope = make_envelope(
            payload, event_type="lead.captured", deal_id=lead_id, producer=PRODUCER, occurred_at=now
        )
        record = Record(lead_id.encode(), encode(envelope), tuple(kafka_headers(envelope)))
        leads.append(PreparedLead(lead_id, i, kind, record))
    return leads


# The hops of the straight path (a quote accepted as issued), each from the Kafka timestamp of
# the event or command that starts it to the one it leads to; a record's timestamp is set when
# its producer sends it (for a worker: when its relay publishes, after the commit).
HOPS = (
    ("lead_svc", "lead.captured", "lead.qualified"),
    ("quote_svc: issue", "lead.qualified", "quote.issued"),
    ("customer (load generator)", "quote.issued", "quote.accept"),
    ("quote_svc: accept", "quote.accept", "quote.accepted"),
    ("order_svc", "quote.accepted", "order.confirmed"),
    ("invoice_svc", "order.confirmed", "invoice.posted"),
)


@dataclass(slots=True)
class Deal:
    lead_id: str
    index: int
    published_at: float
    expect: set[str] = field(default_factory=lambda: {LEAD_DECIDED})
    done_at: float | None = None
    posted_at: float | None = None
    stamps: dict[str, float] = field(default_factory=dict)  # type -> first Kafka timestamp, s
    straight: bool = True  # no revision: the hop figures apply
    # Events seen before anything expected them: topics are read in parallel, so an
    # invoice.posted (invoice_svc reacts to order.confirmed) can arrive before the
    # order.confirmed that makes the customer expect it.
    early: Counter[str] = field(default_factory=Counter)

    def wait_for(self, *event_types: str) -> None:
        for event_type in event_types:
            if self.early[event_type]:
                self.early[event_type] -= 1
            else:
                self.expect.add(event_type)


@dataclass
class LoadResult:
    offered_rate: float
    max_in_flight: int
    published: int = 0
    completed: int = 0
    feed_started: float = 0.0
    feed_ended: float = 0.0
    ended: float = 0.0
    cpu_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    done_times: list[float] = field(default_factory=list)
    hops_ms: dict[str, list[float]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)


class LoadGenerator:
    """Offers deals at `rate` per second for `duration_s` (closed-loop when `max_in_flight`)."""

    def __init__(
        self,
        bootstrap: str,
        leads: Sequence[PreparedLead],
        *,
        rate: float,
        duration_s: float,
        seed: int,
        max_in_flight: int = 0,
        behaviour: Behaviour | None = None,
        idle_timeout_s: float = 20.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._leads = leads
        self._rate = rate
        self._duration_s = duration_s
        self._seed = seed
        self._max_in_flight = max_in_flight
        self._b = behaviour or Behaviour()
        self._idle_timeout_s = idle_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[asyncio.Future[Any]] = []
        self._revised: set[str] = set()
        self.deals: dict[bytes, Deal] = {}
        self.result = LoadResult(rate, max_in_flight)

    async def run(self) -> LoadResult:
        cpu = time.process_time()
        consumer = kafka_clients.consumer(
            bootstrap=self._bootstrap,
            enable_auto_commit=False,
            max_poll_records=5000,
            fetch_max_wait_ms=20,
        )
        self._producer = kafka_clients.producer(
            self._bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        feeder: asyncio.Task[None] | None = None
        try:
            await consumer.start()
            await self._producer.start()
            parts = await topic_partitions(self._bootstrap, WATCHED)
            consumer.assign(parts)
            for tp, offset in (await consumer.end_offsets(parts)).items():
                consumer.seek(tp, offset)
            for tp in parts:
                await consumer.position(tp)
            feeder = asyncio.create_task(self._feed())
            last_progress = time.monotonic()
            while True:
                batches = await consumer.getmany(timeout_ms=50)
                if batches:
                    last_progress = time.monotonic()
                for records in batches.values():
                    for record in records:
                        await self._react(record)
                await self._flush()
                if feeder.done():
                    feeder.result()
                    if self.result.completed >= self.result.published:
                        break
                    if time.monotonic() - last_progress > self._idle_timeout_s:
                        break
        finally:
            await cancel_and_wait(feeder)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush(), timeout=30)
            await self._producer.stop()
            await consumer.stop()
        r = self.result
        r.ended = time.monotonic()
        r.cpu_seconds = time.process_time() - cpu
        r.stuck = [
            f"{d.lead_id} expects {sorted(d.expect)}" for d in self.deals.values() if d.expect
        ][:20]
        return r

    async def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            await asyncio.gather(*pending)

    async def _feed(self) -> None:
        producer, r = self._producer, self.result
        assert producer is not None
        interval = 1.0 / self._rate if self._rate > 0 else 0.0
        r.feed_started = started = time.monotonic()
        sent, total = 0, len(self._leads)
        while sent < total and time.monotonic() - started < self._duration_s:
            due = total if not interval else int((time.monotonic() - started) / interval) + 1
            due = min(due, total)
            if self._max_in_flight:
                due = min(due, r.completed + self._max_in_flight)
            for lead in self._leads[sent:due]:
                deal = Deal(lead.lead_id, lead.index, time.monotonic())
                deal.stamps["lead.captured"] = time.time()
                self.deals[lead.record.key] = deal
                self._pending.append(
                    await producer.send(
                        "lead.captured",
                        lead.record.value,
                        key=lead.record.key,
                        headers=list(lead.record.headers),
                    )
                )
            if due > sent:
                r.counts["captured"] += due - sent
                sent = r.published = due
            await self._flush()
            await asyncio.sleep(SLICE_S)
        r.feed_ended = time.monotonic()

    async def _react(self, record: Any) -> None:
        deal = self.deals.get(record.key)
        if deal is None or deal.done_at is not None:
            return
        et, c = record.topic, self.result.counts
        if et.endswith(".dlq"):
            c["dead letters"] += 1
            deal.expect.clear()
            self._maybe_done(deal)
            return
        p = orjson.loads(record.value)["payload"]
        deal.stamps.setdefault(et, record.timestamp / 1000)
        if et in deal.expect:
            deal.expect.discard(et)
        elif et not in ("lead.qualified", "lead.disqualified"):
            deal.early[et] += 1
        if et == "lead.qualified":
            deal.expect.discard(LEAD_DECIDED)
            deal.wait_for("quote.issued")
            c["qualified"] += 1
        elif et == "lead.disqualified":
            deal.expect.discard(LEAD_DECIDED)
            c["disqualified"] += 1
        elif et.endswith(".rejected"):
            c["rejected"] += 1
            deal.expect.clear()
        elif et == "quote.issued":
            await self._quote_issued(deal, p)
        elif et == "order.confirmed":
            await self._order_confirmed(deal, p)
        elif et == "invoice.posted":
            await self._invoice_posted(deal, p)
        else:
            c[et] += 1
        self._maybe_done(deal)

    def _maybe_done(self, deal: Deal) -> None:
        if not deal.expect:
            deal.done_at = time.monotonic()
            self.result.completed += 1
            self.result.done_times.append(deal.done_at)

    async def _send(self, topic: str, payload: Any, event_type: str, deal: Deal) -> None:
        assert self._producer is not None
        envelope: Envelope[Any] = make_envelope(
            payload,
            event_type=event_type,
            deal_id=deal.lead_id,
            producer=PRODUCER,
            occurred_at=datetime.now(UTC),
        )
        self._pending.append(
            await self._producer.send(
                topic, encode(envelope), key=deal.lead_id.encode(), headers=kafka_headers(envelope)
            )
        )
        deal.stamps.setdefault(event_type, time.time())

    async def _quote_issued(self, deal: Deal, p: dict[str, Any]) -> None:
        self.result.counts["quotes issued"] += 1
        quote_id = uuid.UUID(p["quote_id"])
        if deal.lead_id in self._revised:  # the revision came back: accept it
            decision = "accept"
        else:
            decision = self._b.quote_decision(_rng(self._seed, deal.index, "quote").random())
        if decision == "accept":
            deal.wait_for("quote.accepted", "order.confirmed")
            po = f"PO-{p['quote_number']}"
            accept = AcceptQuote(quote_id=quote_id, accepted_by="customer", customer_po=po)
            await self._send("quote.commands", accept, "quote.accept", deal)
        elif decision == "reject":
            deal.wait_for("quote.closed", "opportunity.closed")
            reject = RejectQuote(
                quote_id=quote_id,
                reason=QuoteRejectReason.LOST,
                requested_by="customer",
                note="went with a competitor",
            )
            await self._send("quote.commands", reject, "quote.reject", deal)
        elif decision == "revise":
            self._revised.add(deal.lead_id)
            deal.straight = False
            deal.wait_for("quote.closed", "quote.issued")
            lines = tuple(
                QuoteLineInput(
                    sku=line["sku"],
                    description=None,
                    quantity=Decimal(line["quantity"]) + 1,
                    unit_price=None,
                    discount_amount=Decimal(0),
                    tax_rate=None,
                )
                for line in p["lines"]
                if line.get("sku")
            )
            revise = ReviseQuote(
                quote_id=quote_id, lines=lines, requested_by="sales.rep", note="one more of each"
            )
            await self._send("quote.commands", revise, "quote.revise", deal)
        else:
            self.result.counts["quotes left open"] += 1

    async def _order_confirmed(self, deal: Deal, p: dict[str, Any]) -> None:
        self.result.counts["orders confirmed"] += 1
        order_id = uuid.UUID(p["order_id"])
        if _rng(self._seed, deal.index, "order").random() < self._b.cancel_order:
            deal.wait_for("order.cancelled")
            cancel = CancelOrder(order_id=order_id, reason="customer withdrew", requested_by="rep")
            await self._send("order.commands", cancel, "order.cancel", deal)
            return
        deal.wait_for("order.fulfilled", "invoice.posted")
        fulfil = RecordFulfilment(
            order_id=order_id,
            shipment_ref=f"SHIP-{p['order_number']}",
            lines=tuple(
                ShippedLine(line_no=line["line_no"], quantity_shipped=Decimal(line["quantity"]))
                for line in p["lines"]
            ),
        )
        await self._send("order.commands", fulfil, "order.record_fulfilment", deal)

    async def _invoice_posted(self, deal: Deal, p: dict[str, Any]) -> None:
        self.result.counts["invoices posted"] += 1
        if deal.posted_at is None:
            deal.posted_at = time.monotonic()
            self.result.latencies_ms.append((deal.posted_at - deal.published_at) * 1000)
            if deal.straight:
                for hop, start, end in HOPS:
                    if start in deal.stamps and end in deal.stamps:
                        ms = (deal.stamps[end] - deal.stamps[start]) * 1000
                        self.result.hops_ms.setdefault(hop, []).append(ms)
        total = Decimal(p["totals"]["grand_total"])
        roll = _rng(self._seed, deal.index, "payment").random()
        if roll < self._b.pay_full:
            amount = total
        elif roll < self._b.pay_full + self._b.pay_part:
            amount = (total / 2).quantize(Decimal("0.01"))
        else:
            return
        deal.wait_for("invoice.paid")
        payment = RecordPayment(
            payment_id=f"PAY-{p['invoice_number']}-0",
            invoice_id=uuid.UUID(p["invoice_id"]),
            external_invoice_id=None,
            amount=amount,
            currency=p["currency"],
            paid_at=datetime.now(UTC),
            method="bank_transfer",
        )
        await self._send("invoice.commands", payment, "invoice.record_payment", deal)
