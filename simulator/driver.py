"""The lifecycle driver: plays everyone around salesflow and reports the funnel.

It publishes captured leads at a steady rate (the upstream systems), then reacts to what the
workers publish the way people and systems would: customers accept most issued quotes (some
asking to be billed per shipment or with a down payment), reject some, ask for a revision of
some and let some lie (they expire after their validity); fulfilment ships accepted orders, some
in two partial shipments, and the remainder of some of those is cancelled; a few orders are
cancelled at once, a few as their first invoice is paid (the cancel and the payment published
together); accounting pays most invoices, some only partly, credits a returned line of some, and
when a refund falls due pays it back or applies it to another open invoice of the account; in
external invoicing mode it also plays the ERP: it registers the ERP's invoices (sometimes two
per order) and its credit notes for cancelled orders. Every decision is drawn from a seeded
generator, so a run can be replayed.

Decisions are drawn per deal (seed, deal number, what is decided), never from one shared
stream, so a deal decides the same way whatever order the events of all deals arrive in: a replayed
seed replays the same business, even when faults reorder the deliveries.

A deal is finished when every event it expects was seen, every command sent for it was answered
(an event it caused, or a refusal), and its billing and money are settled (`simulator.books`):
a cancelled deal, for example, ends once its credit notes and refunds are seen and handled.

The demo prints its funnel; the benchmark and the fault-injection suite (`chaos/`) reuse the same
driver: offered rate for a duration, latency from lead.captured to invoice.posted, per-deal
outcomes, a per-second timeline of the events each service published, and the records it sent
(which the fault injector re-publishes as duplicates). It tolerates broker outages: a send that
fails is sent again (same bytes, same event id: the consumers' inboxes absorb any copy), and an
event delivered twice is reacted to once.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from typing import Any

from contracts.envelope import Envelope, decode
from contracts.leads import ContactInfo
from contracts.topics import topic as topic_spec
from shared import kafka_clients
from shared.topic_partitions import topic_partitions
from simulator.accounting import Accounting
from simulator.commands import PRODUCER, Commands, envelope
from simulator.customers import Behaviour, Customers, Deal
from simulator.funnel import Funnel, percentiles
from simulator.leads import SKUS, captured_lead
from simulator.publisher import Publisher, SentRecord

__all__ = [
    "PRODUCER",
    "SKUS",
    "WATCHED",
    "Behaviour",
    "Deal",
    "Funnel",
    "LifecycleDriver",
    "SentRecord",
    "captured_lead",
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
    "order.invoiced",
    "order.rejected",
    "invoice.posted",
    "invoice.paid",
    "invoice.cancelled",
    "invoice.credited",
    "refund.due",
    "invoice.refunded",
    "invoice.credit_applied",
    "invoice.rejected",
    "lead_svc.dlq",
    "quote_svc.dlq",
    "order_svc.dlq",
    "invoice_svc.dlq",
)
LEAD_DECIDED = "lead.qualified|lead.disqualified"


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
        self._publisher = Publisher(bootstrap, keep_recent)
        # A second producer client (its own connections and producer id), for the commands that
        # race another one: the broker, not this process, decides their order.
        self._rival = Publisher(bootstrap)
        self._rival.recent = self._publisher.recent
        self._commands = Commands(self._send, self._send_rival)
        self._people = Customers(self._b, seed, self.funnel, self._commands)
        self._accounting = Accounting(self._b, seed, self.funnel, self._commands)
        self._native = not self._b.erp_invoices
        self._accounts: set[str] = set()  # account ids of the run's orders (refunds are keyed so)
        self._types: dict[Any, str] = {}  # event id -> type, of what the driver sent and saw
        self._fully_invoiced: set[Any] = set()
        self._seen: set[str] = set()
        self._stop_feeding = False
        self.started = time.monotonic()
        # service -> second since start -> events it published that the driver saw first then
        self.timeline: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.redeliveries = 0  # records whose event id the driver had seen already

    def stop_feeding(self) -> None:
        """Publish no more new leads; the run ends when the deals already started are done."""
        self._stop_feeding = True

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def run(self) -> Funnel:
        self.started = started = time.monotonic()
        consumer = kafka_clients.consumer(
            bootstrap=self._bootstrap, enable_auto_commit=False, max_poll_records=2000
        )
        await consumer.start()
        await self._publisher.start()
        await self._rival.start()
        try:
            parts = await topic_partitions(self._bootstrap, WATCHED)
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
            await self._publisher.stop()
            await self._rival.stop()
            await consumer.stop()
        self.funnel.seconds = time.monotonic() - started
        stuck = [d for d in self.deals.values() if not d.finished(self._native)]
        self.funnel.incomplete = len(stuck)
        self.funnel.stuck = [
            f"{d.lead_id} waits for {d.waiting_for(self._native)} after {d.events}" for d in stuck
        ]
        return self.funnel

    def _all_done(self) -> bool:
        return len(self.deals) == self._leads and all(
            d.done_at is not None for d in self.deals.values()
        )

    # --- publishing ---------------------------------------------------------------------

    @property
    def recent(self) -> deque[SentRecord]:
        return self._publisher.recent

    @property
    def send_retries(self) -> int:
        return self._publisher.send_retries + self._rival.send_retries

    async def _send(
        self, topic: str, envelope: Envelope[Any], publisher: Publisher | None = None
    ) -> None:
        self._types[envelope.event_id] = envelope.event_type
        deal = self.deals.get(envelope.deal_id)
        traced = deal.traceparent if deal is not None else None
        await (publisher or self._publisher).send(
            topic, envelope, (("traceparent", traced),) if traced is not None else ()
        )

    async def _send_rival(self, topic: str, envelope: Envelope[Any]) -> None:
        await self._send(topic, envelope, self._rival)

    async def _flush(self) -> None:
        await asyncio.gather(self._publisher.flush(), self._rival.flush())

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

    async def _react(self, record: Any) -> None:
        key = record.key.decode() if record.key else ""
        deal = self.deals.get(key)
        if deal is None and key not in self._accounts:
            return
        first, env = self._first_delivery(record)
        if not first:
            return
        if env is None:
            reason = dict(record.headers).get("dlq.reason", b"?").decode()
            self.funnel.dead_letters[f"{record.topic}:{reason}"] += 1
            if deal is not None:
                deal.failed = True
                self._settle(deal)
            return
        self._types[env.event_id] = env.event_type
        if deal is not None:
            deal.traceparent = dict(record.headers).get("traceparent") or deal.traceparent
        answered = self._commands.answered(env.causation_id)
        if env.event_type.endswith(".rejected"):
            command_id = env.payload.command_event_id
            answered = self._commands.answered(command_id) or answered
            self.funnel.refusals[f"{env.event_type}: {env.payload.reason_code}"] += 1
            # Nothing the driver does is meant to be refused, but the loser of a race.
            lost = self._commands.lost(command_id)
            self.funnel.counts["race losers refused" if lost else "rejected"] += 1
            for refused in {d.lead_id: d for d in (deal, answered) if d is not None}.values():
                refused.events.append(env.event_type)
                refused.failed = refused.failed or not lost
                self._settle(refused)
            return
        if env.event_type == "invoice.posted":
            erp = self._commands.erp_invoices.pop(env.payload.external_invoice_id or "", None)
            answered = self._commands.answered(erp) or answered
        if deal is not None:
            await self._on_deal_event(deal, env)
        elif env.event_type == "invoice.refunded":
            self._accounting.on_refunded(env)
        for touched in {d.lead_id: d for d in (deal, answered) if d is not None}.values():
            await self._progress(touched)

    async def _on_deal_event(self, deal: Deal, env: Envelope[Any]) -> None:  # noqa: PLR0912 - one branch per event type
        et, p = env.event_type, env.payload
        cause = self._types.get(env.causation_id, "")
        deal.events.append(et)
        c = self.funnel.counts
        deal.expect.discard(et)
        if et in ("lead.qualified", "lead.disqualified"):
            deal.expect.discard(LEAD_DECIDED)
        if deal.quote_race:
            self._follow_the_winner(deal, env)
        if et == "lead.qualified":
            c["qualified"] += 1
            if "quote.issued" not in deal.events:  # another topic: it may be read first
                deal.expect.add("quote.issued")
        elif et == "lead.disqualified":
            c[f"disqualified:{p.reason.value}"] += 1
        elif et == "quote.issued":
            await self._people.on_quote_issued(deal, env)
        elif et == "quote.accepted":
            c["quotes accepted"] += 1
            self.funnel.money(p.currency)["won"] += p.totals.grand_total
        elif et == "quote.closed":
            c["quotes revised" if p.status.value == "revised" else "quotes lost"] += 1
        elif et == "opportunity.closed":
            c[f"opportunities {p.outcome.value}"] += 1
        elif et == "order.confirmed":
            self._accounts.add(str(p.account_id))
            order = self._people.on_order_confirmed(deal, env)
            await self._accounting.on_order_confirmed(deal, order, env)
            # Its invoices travel on another topic and may have been read first.
            for invoice in list(deal.invoices.values()):
                if invoice.posted and invoice.order_id == order.order_id:
                    await self._accounting.on_order_invoice(deal, order, invoice)
        elif et == "order.fulfilled":
            self._people.on_order_fulfilled(deal, env)
        elif et == "order.cancelled":
            self._people.on_order_cancelled(deal, env)
        elif et == "order.invoiced" and p.billing_status.value == "fully_invoiced":
            if p.order_id not in self._fully_invoiced:
                self._fully_invoiced.add(p.order_id)
                c["orders fully invoiced"] += 1
        elif et == "invoice.posted":
            await self._accounting.on_invoice_posted(deal, env, cause)
        elif et == "invoice.paid":
            self._accounting.on_invoice_paid(deal, env)
        elif et == "invoice.credited":
            self._accounting.on_invoice_credited(deal, env, cause)
        elif et == "invoice.credit_applied":
            self._accounting.on_credit_applied(deal, env)
        elif et == "refund.due":
            await self._accounting.on_refund_due(deal, env)
        elif et == "invoice.cancelled":
            c["invoices cancelled"] += 1

    @staticmethod
    def _follow_the_winner(deal: Deal, env: Envelope[Any]) -> None:
        """A quote accepted and rejected at once: what the deal expects follows the winner
        (each next step travels on another topic, so it may have been read already)."""
        et = env.event_type
        if et == "quote.accepted" and "order.confirmed" not in deal.events:
            deal.expect.add("order.confirmed")
        lost = et == "quote.closed" and env.payload.status.value != "revised"
        if lost and "opportunity.closed" not in deal.events:
            deal.expect.add("opportunity.closed")

    async def _progress(self, deal: Deal) -> None:
        """Take every step of the deal whose moment has come, then see whether it is finished."""
        for order in list(deal.orders.values()):
            for name in sorted(order.todo):
                taken = await self._people.step(deal, order, name)
                if taken or await self._accounting.step(deal, order, name):
                    order.todo.discard(name)
        self._settle(deal)

    def _settle(self, deal: Deal) -> None:
        if not deal.finished(self._native):
            deal.done_at = None
        elif deal.done_at is None:
            deal.done_at = time.monotonic()
