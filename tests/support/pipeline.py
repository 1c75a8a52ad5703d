"""The four workers as processes on the real servers, for the end-to-end suites: start and stop
them, publish as upstream systems do, and wait for the events of one deal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope, decode, make_envelope
from contracts.invoices import RecordPayment
from contracts.quotes import AcceptQuote
from contracts.topics import ALL_TOPICS, TopicKind
from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader, publish, record_of
from tests.support.leads import captured, new_run_id
from tests.support.workers import WorkerProcess

# Everything salesflow publishes, dead letters included: what an end-to-end test can wait for.
WATCHED = tuple(spec.name for spec in ALL_TOPICS if spec.kind is not TopicKind.INBOUND)

PEOPLE = "e2e-people"


@dataclass
class Pipeline:
    endpoints: Endpoints
    logs: Path
    reader: TopicReader
    engine: AsyncEngine
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    async def start(self, stage: str, **env: str) -> None:
        log = self.logs / f"{stage}-{len(list(self.logs.iterdir()))}.log"
        worker = WorkerProcess(stage, self.endpoints, log, **env).start()
        self.workers[stage] = worker
        await worker.wait_ready()

    def stop(self, stage: str) -> None:
        worker = self.workers.pop(stage)
        assert worker.terminate() == 0, worker.tail()

    async def events(
        self,
        deal: str,
        event_type: str,
        count: int = 1,
        timeout_s: float = 60.0,
        where: Callable[[Envelope[Any]], bool] = lambda _: True,
    ) -> list[Envelope[Any]]:
        """Wait until `count` events of `event_type` for `deal` were published."""

        def matching(records: list[Any]) -> list[Envelope[Any]]:
            found = []
            for r in records:
                if r.key != deal.encode() or r.topic.endswith(".dlq"):
                    continue
                env = decode(r.value)
                if env.event_type == event_type and where(env):
                    found.append(env)
            return found

        await self.reader.collect(lambda rs: len(matching(rs)) >= count, timeout_s=timeout_s)
        found = matching(self.reader.records)
        assert len(found) >= count, (
            f"{deal}: {len(found)}/{count} {event_type}; saw "
            f"{[(r.topic) for r in self.reader.records if r.key == deal.encode()]}"
        )
        return found

    def all_events(self, deal: str) -> list[tuple[str, Envelope[Any] | None]]:
        return [
            (r.topic, None if r.topic.endswith(".dlq") else decode(r.value))
            for r in self.reader.records
            if r.key == deal.encode()
        ]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()


def lead_of(tag: str, **kwargs: Any) -> Envelope[Any]:
    return captured(
        f"{tag}-{new_run_id()}", interests=(("SKU-1001", "10"), ("SKU-2001", "3")), **kwargs
    )


def command(payload: Any, event_type: str, deal: str) -> Envelope[Any]:
    return make_envelope(
        payload, event_type=event_type, deal_id=deal, producer=PEOPLE, occurred_at=datetime.now(UTC)
    )


async def issued_quote(pipe: Pipeline, lead: Envelope[Any]) -> Envelope[Any]:
    await publish(pipe.endpoints.kafka, [record_of("lead.captured", lead)])
    await pipe.events(lead.deal_id, "lead.qualified")
    (issued,) = await pipe.events(lead.deal_id, "quote.issued")
    return issued


async def accept(
    pipe: Pipeline,
    deal: str,
    quote: Envelope[Any],
    *,
    policy: InvoicingPolicy | None = None,
    down_payment_rate: Decimal | None = None,
) -> None:
    accept = AcceptQuote(
        quote_id=quote.payload.quote_id,
        accepted_by="buyer",
        customer_po="PO-7",
        invoicing_policy=policy,
        down_payment_rate=down_payment_rate,
    )
    await publish(
        pipe.endpoints.kafka, [record_of("quote.commands", command(accept, "quote.accept", deal))]
    )


async def pay(pipe: Pipeline, deal: str, invoice: Envelope[Any], amount: Decimal, n: int) -> None:
    p = invoice.payload
    pay = RecordPayment(
        payment_id=f"PAY-{p.invoice_number}-{n}",
        invoice_id=p.invoice_id,
        external_invoice_id=None,
        amount=amount,
        currency=p.currency,
        paid_at=datetime.now(UTC),
        method="bank_transfer",
    )
    await publish(
        pipe.endpoints.kafka,
        [record_of("invoice.commands", command(pay, "invoice.record_payment", deal))],
    )
