"""The load generator: the demo driver's deals and decisions, at rates the demo driver cannot offer.

The people around salesflow are the demo driver's own (`simulator.driver.LifecycleDriver` with
`simulator.customers`, `simulator.accounting` and `simulator.books`), so the deal mix is the
driver's whole mix, decision for decision (drawn per deal from the seed): unreachable and
duplicate leads; quotes accepted, rejected (the opportunity closes), revised then accepted, or
left open; orders billed on order, per shipment (partial invoices) or with a down payment
deducted later; orders shipped whole or in two partial shipments, the remainder of some
cancelled, some cancelled at once and some as their first invoice is paid; invoices paid in
full, in part or not at all; one returned line credited on some (a credit note); the money that
becomes customer credit announced as refund.due and paid back or applied to another open
invoice of the account. Only the feeding differs from `salesflow drive`:

- leads are built before the clock starts (`build_leads`) and published pre-encoded, in paced
  slices of 5 ms (the driver builds each lead with pydantic while it paces them);
- an optional cap on deals in flight turns the open loop into a closed one, which is how the
  maximum is found without building an unbounded backlog.

Watched events are decoded and validated with pydantic, as the driver does (its people read
typed payloads): that is most of this generator's CPU, reported as `load generator`.

A deal is done when the driver would call it finished (`simulator.customers.Deal.finished`):
every event its decisions lead to was seen, every command it sent was answered, and its billing
and money are settled (a cancelled order ends once its credit notes and refunds are seen). Its
latency is from handing `lead.captured` to the producer to seeing its first `invoice.posted`.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.kafka_io import Record
from contracts.envelope import Envelope, encode, kafka_headers, make_envelope
from contracts.leads import ContactInfo
from simulator.books import ON_DELIVERY
from simulator.customers import Deal
from simulator.driver import LEAD_DECIDED, Behaviour, LifecycleDriver, captured_lead
from simulator.publisher import Publisher, SentRecord

PRODUCER = "salesflow-bench"
SLICE_S = 0.005


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


class _Players(LifecycleDriver):
    """The demo driver's people and books (`simulator.customers`, `simulator.accounting`,
    `simulator.books`: every decision, and when a deal is finished), fed with prepared leads at
    a paced or closed-loop rate, with the Kafka timestamps of each deal's straight path kept."""

    def __init__(
        self,
        bootstrap: str,
        leads: Sequence[PreparedLead],
        *,
        rate: float,
        duration_s: float,
        seed: int,
        max_in_flight: int,
        behaviour: Behaviour | None,
        idle_timeout_s: float,
        result: LoadResult,
    ) -> None:
        super().__init__(
            bootstrap,
            leads=len(leads),
            rate=rate,
            seed=seed,
            behaviour=behaviour,
            idle_timeout_s=idle_timeout_s,
            run_id="bench",
        )
        self._prepared = leads
        self._duration_s = duration_s
        self._max_in_flight = max_in_flight
        self.result = result
        self.finished = 0  # deals finished now (a late event can reopen one)
        self.stamps: dict[str, dict[str, float]] = {}  # deal -> type -> first Kafka timestamp, s

    async def _feed(self) -> None:
        r = self.result
        interval = 1.0 / self._rate if self._rate > 0 else 0.0
        r.feed_started = started = time.monotonic()
        sent, total = 0, len(self._prepared)
        while sent < total and time.monotonic() - started < self._duration_s:
            due = total if not interval else int((time.monotonic() - started) / interval) + 1
            due = min(due, total)
            if self._max_in_flight:
                due = min(due, self.finished + self._max_in_flight)
            for lead in self._prepared[sent:due]:
                deal = Deal(
                    lead.lead_id, lead.kind, index=lead.index, published_at=time.monotonic()
                )
                deal.expect = {LEAD_DECIDED}
                self.deals[lead.lead_id] = deal
                self.stamps[lead.lead_id] = {"lead.captured": time.time()}
                record = lead.record
                await self._publisher.send_record(
                    SentRecord("lead.captured", record.key, record.value, record.headers)
                )
            if due > sent:
                self.funnel.counts["captured"] += due - sent
                sent = r.published = due
            await self._flush()
            await asyncio.sleep(SLICE_S)
        self._leads = sent  # the run ends when the deals started are finished
        r.feed_ended = time.monotonic()

    async def _send(
        self, topic: str, envelope: Envelope[Any], publisher: Publisher | None = None
    ) -> None:
        stamps = self.stamps.get(envelope.deal_id)
        if stamps is not None:
            stamps.setdefault(envelope.event_type, time.time())
        await super()._send(topic, envelope, publisher)

    async def _react(self, record: Any) -> None:
        stamps = self.stamps.get(record.key.decode()) if record.key else None
        if stamps is not None:
            stamps.setdefault(record.topic, record.timestamp / 1000)
        await super()._react(record)

    def _settle(self, deal: Deal) -> None:
        was = deal.done_at is not None
        super()._settle(deal)
        if (deal.done_at is not None) != was:
            self.finished += 1 if not was else -1


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
        self.result = LoadResult(rate, max_in_flight)
        self._players = _Players(
            bootstrap,
            leads,
            rate=rate,
            duration_s=duration_s,
            seed=seed,
            max_in_flight=max_in_flight,
            behaviour=behaviour,
            idle_timeout_s=idle_timeout_s,
            result=self.result,
        )

    async def run(self) -> LoadResult:
        cpu = time.process_time()
        players = self._players
        funnel = await players.run()
        r = self.result
        r.ended = time.monotonic()
        r.cpu_seconds = time.process_time() - cpu
        done = [d for d in players.deals.values() if d.done_at is not None]
        r.completed = len(done)
        r.done_times = sorted(d.done_at for d in done if d.done_at is not None)
        r.counts = Counter(funnel.counts)
        for name, count in (*funnel.dead_letters.items(), *funnel.refusals.items()):
            r.counts[f"refused or dead-lettered: {name}"] += count
        for deal in players.deals.values():
            if deal.posted_at is None:
                continue
            r.latencies_ms.append((deal.posted_at - deal.published_at) * 1000)
            stamps = players.stamps.get(deal.lead_id, {})
            if not _straight(deal, stamps):
                continue
            for hop, start, end in HOPS:
                if start in stamps and end in stamps:
                    r.hops_ms.setdefault(hop, []).append((stamps[end] - stamps[start]) * 1000)
        r.stuck = funnel.stuck[:20]
        return r


def _straight(deal: Deal, stamps: dict[str, float]) -> bool:
    """The quote accepted as issued and the order invoiced when confirmed: the hops apply."""
    billed_at_once = all(order.policy != ON_DELIVERY for order in deal.orders.values())
    return "quote.revise" not in stamps and billed_at_once and not deal.failed
