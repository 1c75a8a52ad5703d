"""The lifecycle driver: plays everyone around salesflow and reports the funnel.

It publishes captured leads at a steady rate (the upstream systems), then reacts to what the
workers publish the way people and systems would: customers accept most issued quotes, reject
some, ask for a revision of some and let some lie (they expire after their validity); fulfilment
ships accepted orders, a few orders are cancelled; accounting pays most invoices, some only
partly, and in external invoicing mode it also registers the ERP's invoice for each confirmed
order. Every decision is drawn from a seeded generator, so a run can be replayed.

The demo prints its funnel; the benchmark and the fault-injection suite reuse the same driver
(offered rate, latency from lead.captured to invoice.posted, per-deal outcomes).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.envelope import Envelope, decode, encode, kafka_headers, make_envelope
from contracts.invoices import RecordPayment, RegisterExternalInvoice
from contracts.leads import (
    ContactInfo,
    LeadCaptured,
    LeadSource,
    ProductInterest,
    PurchaseTimeframe,
)
from contracts.orders import CancelOrder, RecordFulfilment, ShippedLine
from contracts.quotes import (
    AcceptQuote,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)

PRODUCER = "lifecycle-driver"
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


@dataclass(frozen=True)
class Behaviour:
    """How the people around salesflow decide (probabilities; the rest falls to the last)."""

    unreachable: float = 0.05
    duplicate: float = 0.05
    accept: float = 0.70
    reject: float = 0.10
    revise: float = 0.10  # then accept the revision; the remainder of quotes are left to expire
    cancel_order: float = 0.05
    pay_full: float = 0.70
    pay_part: float = 0.20  # the remainder of invoices stay unpaid
    erp_invoices: bool = False  # external invoicing: the driver registers the ERP's invoices


@dataclass
class Deal:
    lead_id: str
    kind: str
    published_at: float = 0.0
    expect: set[str] = field(default_factory=set)  # terminal event types still awaited
    done_at: float | None = None
    posted_at: float | None = None
    events: list[str] = field(default_factory=list)


@dataclass
class Funnel:
    counts: Counter[str] = field(default_factory=Counter)
    amounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    latencies_ms: list[float] = field(default_factory=list)
    dead_letters: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    incomplete: int = 0
    stuck: list[str] = field(default_factory=list)

    def render(self) -> str:
        c, a = self.counts, self.amounts
        opps_open = c["qualified"] - c["opportunities won"] - c["opportunities lost"]
        rows = [
            ("leads captured", c["captured"]),
            ("  qualified", c["qualified"]),
            *[
                (f"  disqualified: {k[13:]}", v)
                for k, v in sorted(c.items())
                if k.startswith("disqualified:")
            ],
            ("opportunities open", opps_open),
            ("  won", c["opportunities won"]),
            ("  lost", c["opportunities lost"]),
            ("quotes issued (incl. revisions)", c["quotes issued"]),
            ("  revised", c["quotes revised"]),
            ("  accepted", c["quotes accepted"]),
            ("  closed lost/canceled/expired", c["quotes lost"]),
            ("  left open (expire after validity)", c["quotes left open"]),
            ("orders confirmed", c["orders confirmed"]),
            ("  fulfilled", c["orders fulfilled"]),
            ("  cancelled", c["orders cancelled"]),
            ("invoices posted", c["invoices posted"]),
            ("  paid in full", c["invoices paid"]),
            ("  partly paid", c["invoices partly paid"]),
            ("  cancelled", c["invoices cancelled"]),
            ("refusals (*.rejected)", c["rejected"]),
            ("dead letters", sum(self.dead_letters.values())),
        ]
        lines = ["funnel"] + [f"  {label:<38} {value:>7}" for label, value in rows]
        lines.append("amounts (EUR)")
        outstanding = a["invoiced"] - a["paid"] - a["invoice cancelled"]
        for label, value in (
            ("won", a["won"]),
            ("invoiced", a["invoiced"]),
            ("paid", a["paid"]),
            ("outstanding", outstanding),
        ):
            lines.append(f"  {label:<38} {value:>14,.2f}")
        if self.latencies_ms:
            p = percentiles(self.latencies_ms)
            lines.append(
                f"lead.captured -> invoice.posted latency ms: p50 {p[50]:.0f}  p95 {p[95]:.0f}  "
                f"p99 {p[99]:.0f}  (n={len(self.latencies_ms)})"
            )
        status = "complete" if not self.incomplete else f"INCOMPLETE: {self.incomplete} deals"
        lines.append(f"{c['captured']} deals in {self.seconds:.1f}s: {status}")
        lines += [f"  waiting: {line}" for line in self.stuck[:10]]
        return "\n".join(lines)


def percentiles(values: list[float]) -> dict[int, float]:
    ordered = sorted(values)
    return {
        q: ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
        for q in (50, 95, 99)
    }


class LifecycleDriver:
    def __init__(
        self,
        bootstrap: str,
        *,
        leads: int,
        rate: float,
        seed: int,
        behaviour: Behaviour | None = None,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._leads = leads
        self._rate = rate
        self._rng = random.Random(seed)
        self._run = uuid.UUID(int=random.Random(seed ^ time.time_ns()).getrandbits(128)).hex[:8]
        self._b = behaviour or Behaviour()
        self._idle_timeout_s = idle_timeout_s
        self.deals: dict[str, Deal] = {}
        self.funnel = Funnel()
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[asyncio.Future[Any]] = []
        self._quote_decision: dict[str, str] = {}
        self._invoiced: dict[Any, Decimal] = {}

    async def run(self) -> Funnel:
        started = time.monotonic()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, max_poll_records=2000
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        await consumer.start()
        await producer.start()
        self._producer = producer
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
            await self._flush()
            await producer.stop()
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

    async def _send(self, topic: str, envelope: Envelope[Any]) -> None:
        assert self._producer is not None
        self._pending.append(
            await self._producer.send(
                topic,
                encode(envelope),
                key=envelope.deal_id.encode(),
                headers=kafka_headers(envelope),
            )
        )

    async def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            await asyncio.gather(*pending)

    def _envelope(self, payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
        return make_envelope(
            payload,
            event_type=event_type,
            deal_id=deal_id,
            producer=PRODUCER,
            occurred_at=datetime.now(UTC),
        )

    async def _feed(self) -> None:
        interval = 1.0 / self._rate if self._rate > 0 else 0.0
        started = time.monotonic()
        emails: list[tuple[str, ContactInfo]] = []
        for i in range(self._leads):
            lead_id = f"deal-{self._run}-{i:06d}"
            roll = self._rng.random()
            company = f"{self._rng.choice(_COMPANIES)} {self._run}-{i % 97}"
            contact = ContactInfo(
                first_name="Ada",
                last_name=f"Buyer-{i}",
                email=f"buyer{i}@{self._run}.example.com",
                phone=None,
            )
            kind = "fit"
            if roll < self._b.unreachable:
                kind = "unreachable"
                contact = ContactInfo(
                    first_name="Ada", last_name=f"Buyer-{i}", email=None, phone=None
                )
            elif roll < self._b.unreachable + self._b.duplicate and emails:
                kind = "duplicate"
                company, contact = self._rng.choice(emails)
            else:
                emails.append((company, contact))
            deal = Deal(lead_id, kind, published_at=time.monotonic())
            # A duplicate and its original may be decided in either order (different partitions),
            # so the lead stage only has to decide, one way or the other.
            deal.expect = {LEAD_DECIDED}
            self.deals[lead_id] = deal
            interests = tuple(
                ProductInterest(sku=sku, quantity=Decimal(self._rng.randint(1, 20)))
                for sku in self._rng.sample(SKUS, self._rng.randint(1, 3))
            )
            payload = LeadCaptured(
                lead_id=lead_id,
                source=self._rng.choice(list(LeadSource)),
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
            await self._send("lead.captured", self._envelope(payload, "lead.captured", lead_id))
            self.funnel.counts["captured"] += 1
            if interval:
                delay = started + (i + 1) * interval - time.monotonic()
                if delay > 0:
                    await self._flush()
                    await asyncio.sleep(delay)
        await self._flush()

    # --- reacting -----------------------------------------------------------------------

    async def _react(self, record: Any) -> None:  # noqa: PLR0912 - one branch per event type
        deal_id = record.key.decode() if record.key else ""
        deal = self.deals.get(deal_id)
        if deal is None:
            return
        if record.topic.endswith(".dlq"):
            reason = dict(record.headers).get("dlq.reason", b"?").decode()
            self.funnel.dead_letters[f"{record.topic}:{reason}"] += 1
            deal.expect.clear()
            return
        env = decode(record.value)
        et, p = env.event_type, env.payload
        deal.events.append(et)
        c = self.funnel.counts
        deal.expect.discard(et)
        if et in ("lead.qualified", "lead.disqualified"):
            deal.expect.discard(LEAD_DECIDED)
        if et == "lead.qualified":
            c["qualified"] += 1
            deal.expect.add("quote.issued")
        elif et == "lead.disqualified":
            c[f"disqualified:{p.reason.value}"] += 1
        elif et.endswith(".rejected"):
            c["rejected"] += 1
            deal.expect.clear()
        elif et == "quote.issued":
            await self._on_quote_issued(deal, env)
        elif et == "quote.accepted":
            c["quotes accepted"] += 1
            self.funnel.amounts["won"] += p.totals.grand_total
        elif et == "quote.closed":
            c["quotes revised" if p.status.value == "revised" else "quotes lost"] += 1
        elif et == "opportunity.closed":
            c[f"opportunities {p.outcome.value}"] += 1
        elif et == "order.confirmed":
            await self._on_order_confirmed(deal, env)
        elif et == "order.fulfilled":
            c["orders fulfilled"] += p.completeness.value == "complete"
        elif et == "order.cancelled":
            c["orders cancelled"] += 1
        elif et == "invoice.posted":
            await self._on_invoice_posted(deal, env)
        elif et == "invoice.paid":
            c["invoices paid" if p.status.value == "complete" else "invoices partly paid"] += 1
            self.funnel.amounts["paid"] += p.amount
        elif et == "invoice.cancelled":
            c["invoices cancelled"] += 1
            self.funnel.amounts["invoice cancelled"] += self._invoiced.get(p.invoice_id, 0)
        if not deal.expect and deal.done_at is None:
            deal.done_at = time.monotonic()

    async def _on_quote_issued(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["quotes issued"] += 1
        quote_key = f"{p.quote_number}"
        decision = self._quote_decision.get(quote_key)
        if decision == "revise":  # the revision came back: accept it
            decision = "accept"
        else:
            roll = self._rng.random()
            b = self._b
            decision = (
                "accept"
                if roll < b.accept
                else "reject"
                if roll < b.accept + b.reject
                else "revise"
                if roll < b.accept + b.reject + b.revise
                else "ignore"
            )
        self._quote_decision[quote_key] = decision
        if decision == "accept":
            deal.expect |= {"quote.accepted", "order.confirmed"}
            await self._send(
                "quote.commands",
                self._envelope(
                    AcceptQuote(
                        quote_id=p.quote_id,
                        accepted_by="customer",
                        customer_po=f"PO-{p.quote_number}",
                    ),
                    "quote.accept",
                    deal.lead_id,
                ),
            )
        elif decision == "reject":
            deal.expect |= {"quote.closed", "opportunity.closed"}
            await self._send(
                "quote.commands",
                self._envelope(
                    RejectQuote(
                        quote_id=p.quote_id,
                        reason=QuoteRejectReason.LOST,
                        requested_by="customer",
                        note="went with a competitor",
                    ),
                    "quote.reject",
                    deal.lead_id,
                ),
            )
        elif decision == "revise":
            deal.expect |= {"quote.closed", "quote.issued"}
            lines = tuple(
                QuoteLineInput(
                    sku=line.sku,
                    description=None,
                    quantity=line.quantity + 1,
                    unit_price=None,
                    discount_amount=Decimal(0),
                    tax_rate=None,
                )
                for line in p.lines
                if line.sku
            )
            await self._send(
                "quote.commands",
                self._envelope(
                    ReviseQuote(
                        quote_id=p.quote_id,
                        lines=lines,
                        requested_by="sales.rep",
                        note="one more of each",
                    ),
                    "quote.revise",
                    deal.lead_id,
                ),
            )
        else:
            self.funnel.counts["quotes left open"] += 1

    async def _on_order_confirmed(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["orders confirmed"] += 1
        if self._rng.random() < self._b.cancel_order:
            deal.expect.add("order.cancelled")
            await self._send(
                "order.commands",
                self._envelope(
                    CancelOrder(
                        order_id=p.order_id, reason="customer withdrew", requested_by="rep"
                    ),
                    "order.cancel",
                    deal.lead_id,
                ),
            )
            return
        deal.expect |= {"order.fulfilled", "invoice.posted"}
        await self._send(
            "order.commands",
            self._envelope(
                RecordFulfilment(
                    order_id=p.order_id,
                    shipment_ref=f"SHIP-{p.order_number}",
                    lines=tuple(
                        ShippedLine(line_no=line.line_no, quantity_shipped=line.quantity)
                        for line in p.lines
                    ),
                ),
                "order.record_fulfilment",
                deal.lead_id,
            ),
        )
        if self._b.erp_invoices:
            today = datetime.now(UTC).date()
            await self._send(
                "invoice.commands",
                self._envelope(
                    RegisterExternalInvoice(
                        external_invoice_id=f"ERP-{p.order_number}",
                        invoice_number=f"ERP-{p.order_number}",
                        order_id=p.order_id,
                        currency=p.currency,
                        totals=p.totals,
                        issue_date=today,
                        due_date=today + timedelta(days=30),
                    ),
                    "invoice.register_external",
                    deal.lead_id,
                ),
            )

    async def _on_invoice_posted(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["invoices posted"] += 1
        self.funnel.amounts["invoiced"] += p.totals.grand_total
        self._invoiced[p.invoice_id] = p.totals.grand_total
        if deal.posted_at is None:
            deal.posted_at = time.monotonic()
            self.funnel.latencies_ms.append((deal.posted_at - deal.published_at) * 1000)
        roll = self._rng.random()
        total = p.totals.grand_total
        if roll < self._b.pay_full:
            payments = [total]
        elif roll < self._b.pay_full + self._b.pay_part:
            payments = [(total / 2).quantize(Decimal("0.01"))]
        else:
            return
        deal.expect.add("invoice.paid")
        for n, amount in enumerate(payments):
            await self._send(
                "invoice.commands",
                self._envelope(
                    RecordPayment(
                        payment_id=f"PAY-{p.invoice_number}-{n}",
                        invoice_id=p.invoice_id,
                        external_invoice_id=None,
                        amount=amount,
                        currency=p.currency,
                        paid_at=datetime.now(UTC),
                        method="bank_transfer",
                    ),
                    "invoice.record_payment",
                    deal.lead_id,
                ),
            )
