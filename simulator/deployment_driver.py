"""The demo's driver for a deployment that leaves stages to an ERP (crm-leads, crm-quotes): it
captures leads, plays the customers where salesflow runs the quote stage (accepting each quote,
some to another ship-to with a delivery date), runs the ERP player for the other stages, and
counts each deal through to the ERP's paid invoice. The whole process in salesflow is the
lifecycle driver's (`simulator.driver`).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import TopicPartition

from contracts.envelope import decode
from contracts.parties import Address
from contracts.quotes import AcceptQuote
from contracts.stages import Deployment
from contracts.topics import topic
from shared import kafka_clients
from simulator.commands import envelope
from simulator.customers import Behaviour
from simulator.erp import PRODUCER as ERP
from simulator.erp import ErpPlayer
from simulator.leads import captured_lead
from simulator.publisher import Publisher

# What the driver counts, in lifecycle order (each seen once per deal).
_STEPS = (
    "lead.qualified",
    "lead.disqualified",
    "quote.issued",
    "quote.accepted",
    "order.confirmed",
    "invoice.posted",
    "invoice.paid",
)
_DELIVERY_SITES = (
    Address(lines=("Dock 4", "Industriestr. 9"), city="Bremen", postal_code="28199", country="DE"),
    Address(lines=("Unit 7, Thames Road",), city="Barking", postal_code="IG11 0HZ", country="GB"),
    Address(
        lines=("1-2-3 Shibaura",), city="Minato-ku, Tokyo", postal_code="108-0023", country="JP"
    ),
)


@dataclass
class DeploymentFunnel:
    plan: Deployment
    counts: Counter[str] = field(default_factory=Counter)
    by_erp: Counter[str] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def incomplete(self) -> int:
        return len(self.stuck)

    def render(self) -> str:
        lines = [
            f"deployment {self.plan.name}: salesflow runs {', '.join(self.plan.runs)}; "
            f"the ERP runs {', '.join(self.plan.erp_stages)}",
            f"{'leads captured':<22}{self.counts['captured']:>8}",
        ]
        for step in _STEPS:
            who = "ERP" if self.by_erp[step] else "salesflow"
            lines.append(f"{step:<22}{self.counts[step]:>8}  by {who}")
        lines.append(f"in {self.seconds:.1f} s; {self.incomplete} deals incomplete")
        lines.extend(f"  {s}" for s in self.stuck[:10])
        return "\n".join(lines)


class DeploymentDriver:
    def __init__(
        self,
        bootstrap: str,
        plan: Deployment,
        *,
        leads: int,
        rate: float,
        seed: int,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._plan = plan
        self._leads = leads
        self._rate = rate
        self._rng = random.Random(seed)
        self._run = uuid.UUID(int=random.Random(seed ^ time.time_ns()).getrandbits(128)).hex[:8]
        self._idle_timeout_s = idle_timeout_s
        self._publisher = Publisher(bootstrap)
        self._seen: dict[str, set[str]] = {}
        self.funnel = DeploymentFunnel(plan)

    async def run(self) -> DeploymentFunnel:
        started = time.monotonic()
        watched = [topic(step).name for step in _STEPS]
        consumer = kafka_clients.consumer(bootstrap=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        await self._publisher.start()
        try:
            parts = [TopicPartition(t, p) for t in watched for p in range(topic(t).partitions)]
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            for tp in parts:
                await consumer.position(tp)
            async with ErpPlayer(
                self._bootstrap, self._plan, client_options=kafka_clients.client_options()
            ):
                feeder = asyncio.create_task(self._feed())
                last = time.monotonic()
                while not (feeder.done() and self._all_paid()):
                    batches = await consumer.getmany(timeout_ms=200)
                    for records in batches.values():
                        for record in records:
                            last = time.monotonic()
                            await self._react(record)
                    await self._publisher.flush()
                    if feeder.done() and time.monotonic() - last > self._idle_timeout_s:
                        break
                await feeder
        finally:
            await self._publisher.stop()
            await consumer.stop()
        self.funnel.seconds = time.monotonic() - started
        self.funnel.stuck = [
            f"{deal} saw {sorted(steps)}"
            for deal, steps in self._seen.items()
            if "invoice.paid" not in steps and "lead.disqualified" not in steps
        ]
        return self.funnel

    def _all_paid(self) -> bool:
        return len(self._seen) == self._leads and all(
            "invoice.paid" in steps or "lead.disqualified" in steps for steps in self._seen.values()
        )

    async def _feed(self) -> None:
        interval = 1.0 / self._rate if self._rate > 0 else 0.0
        emails: list[Any] = []
        fit_only = Behaviour(unreachable=0.0, duplicate=0.0)
        for i in range(self._leads):
            lead_id = f"deal-{self._plan.name}-{self._run}-{i:05d}"
            _, payload = captured_lead(
                self._rng,
                lead_id=lead_id,
                run_id=self._run,
                index=i,
                behaviour=fit_only,
                emails=emails,
            )
            self._seen[lead_id] = set()
            await self._publisher.send("lead.captured", envelope(payload, "lead.captured", lead_id))
            self.funnel.counts["captured"] += 1
            if interval:
                await self._publisher.flush()
                await asyncio.sleep(interval)
        await self._publisher.flush()

    async def _react(self, record: Any) -> None:
        deal = record.key.decode() if record.key else ""
        steps = self._seen.get(deal)
        if steps is None or record.value is None:
            return
        env = decode(record.value)
        if env.event_type in steps:
            return
        steps.add(env.event_type)
        self.funnel.counts[env.event_type] += 1
        if env.producer == ERP:
            self.funnel.by_erp[env.event_type] += 1
        if env.event_type == "quote.issued" and "quote" in self._plan.runs:
            await self._accept(deal, env.payload.quote_id)

    async def _accept(self, deal: str, quote_id: Any) -> None:
        """The customer accepts; one in three has the goods delivered elsewhere, by a date."""
        elsewhere = self._rng.random() < 1 / 3
        accept = AcceptQuote(
            quote_id=quote_id,
            accepted_by="buyer",
            customer_po=f"PO-{deal[-5:]}",
            ship_to=self._rng.choice(_DELIVERY_SITES) if elsewhere else None,
            requested_delivery_date=datetime.now(UTC).date() + timedelta(days=14)
            if elsewhere
            else None,
            shipping_method="freight" if elsewhere else None,
        )
        await self._publisher.send("quote.commands", envelope(accept, "quote.accept", deal))
