"""What happened, as plain data: every record of the run on every topic, and the committed rows.

`collect` reads each topic from the offsets it had when the run started to its end, keeps the
run's records (keys `deal-<run>-...` and `poison-<run>-...`), decodes the envelopes, and reads the
rows of the run's deals from every service schema plus the inbox entries of every event id seen.
The checker works on this `History` only, so its unit tests feed it histories built by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from chaos.poison import PoisonRecord
from contracts.envelope import Envelope, decode
from contracts.errors import InvalidMessage
from contracts.stages import SERVICES
from contracts.topics import ALL_TOPICS

Totals = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]  # subtotal, discount, net, tax, grand
TOTAL_FIELDS = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")


@dataclass(frozen=True)
class Rec:
    """One Kafka record of the run (a relay re-send or a re-published copy is another Rec)."""

    topic: str
    partition: int
    offset: int
    key: str
    timestamp_ms: int
    headers: tuple[tuple[str, bytes | None], ...] = ()
    env: Envelope[Any] | None = None  # None: a dead letter, or a record that does not decode

    @property
    def is_dead_letter(self) -> bool:
        return self.topic.endswith(".dlq")

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return None if value is None else value.decode("utf-8", "replace")
        return None

    @property
    def source(self) -> tuple[str, int, int] | None:
        """Where a dead letter came from (topic, partition, offset)."""
        topic = self.header("dlq.source_topic")
        partition = self.header("dlq.source_partition")
        offset = self.header("dlq.source_offset")
        if topic is None or partition is None or offset is None:
            return None
        return topic, int(partition), int(offset)


@dataclass(frozen=True)
class LeadRow:
    lead_id: str
    state: str
    opportunity_id: UUID | None


@dataclass(frozen=True)
class OpportunityRow:
    opportunity_id: UUID
    lead_id: str
    state: str


@dataclass(frozen=True)
class QuoteRow:
    quote_id: UUID
    lead_id: str
    quote_number: str
    revision: int
    state: str
    totals: Totals


@dataclass(frozen=True)
class OrderRow:
    order_id: UUID
    quote_id: UUID
    deal_id: str
    state: str
    totals: Totals


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: UUID
    order_id: UUID
    deal_id: str
    state: str
    totals: Totals
    amount_paid: Decimal
    balance_due: Decimal


@dataclass(frozen=True)
class PaymentRow:
    payment_id: str
    invoice_id: UUID
    amount: Decimal


@dataclass
class DbState:
    leads: dict[str, LeadRow] = field(default_factory=dict)
    opportunities: list[OpportunityRow] = field(default_factory=list)
    quotes: list[QuoteRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    inbox: dict[str, set[UUID]] = field(default_factory=dict)  # service -> ids seen (of ours)
    outbox_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class History:
    run_id: str
    records: list[Rec]
    db: DbState
    consumes: Mapping[str, Sequence[str]]  # service -> topics it consumes
    poison: list[PoisonRecord] = field(default_factory=list)
    lag: dict[str, int] = field(default_factory=dict)  # consumer group -> records behind
    duplicates_dropped: float = 0.0  # the workers' counter, summed over every process
    dedupe_required: bool = False  # a fault ran that must make the inbox drop duplicates
    native_invoicing: bool = True


def totals_of(values: Mapping[str, Any]) -> Totals:
    return tuple(Decimal(str(values[name])) for name in TOTAL_FIELDS)  # type: ignore[return-value]


def run_keys(run_id: str) -> tuple[str, str]:
    return f"deal-{run_id}-", f"poison-{run_id}-"


async def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [
            TopicPartition(spec.name, p)
            for spec in ALL_TOPICS
            for p in sorted(consumer.partitions_for_topic(spec.name) or ())
        ]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def read_records(
    bootstrap: str, start: Mapping[TopicPartition, int], run_id: str
) -> list[Rec]:
    """Every record of the run between `start` and the current end of each partition."""
    prefixes = run_keys(run_id)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = list(start)
        ends = await consumer.end_offsets(parts)
        todo = {tp for tp in parts if ends[tp] > start[tp]}
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, start[tp])
        records: list[Rec] = []
        while todo:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, batch in batches.items():
                for r in batch:
                    key = r.key.decode("utf-8", "replace") if r.key else ""
                    if key.startswith(prefixes):
                        records.append(_rec(r, key))
                if batch and batch[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
            for tp in list(todo):
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
        return records
    finally:
        await consumer.stop()


def _rec(r: Any, key: str) -> Rec:
    env = None
    if not r.topic.endswith(".dlq") and r.value is not None:
        with contextlib.suppress(InvalidMessage):
            env = decode(r.value, max_bytes=10 * 1024 * 1024)
    return Rec(r.topic, r.partition, r.offset, key, r.timestamp, tuple(r.headers), env)


async def read_db(database_url: str, run_id: str, event_ids: Iterable[UUID]) -> DbState:
    deal, poison = (f"{p}%" for p in run_keys(run_id))
    ids = sorted(set(event_ids))
    db = DbState()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:

            async def rows(sql: str) -> list[Any]:
                return list(await conn.execute(text(sql), {"d": deal, "p": poison}))

            for r in await rows(
                "SELECT lead_id, state, opportunity_id FROM lead_svc.leads "
                "WHERE lead_id LIKE :d OR lead_id LIKE :p"
            ):
                db.leads[r.lead_id] = LeadRow(r.lead_id, r.state, r.opportunity_id)
            db.opportunities = [
                OpportunityRow(r.opportunity_id, r.lead_id, r.state)
                for r in await rows(
                    "SELECT opportunity_id, lead_id, state FROM quote_svc.opportunities "
                    "WHERE lead_id LIKE :d OR lead_id LIKE :p"
                )
            ]
            db.quotes = [
                QuoteRow(
                    r.quote_id, r.lead_id, r.quote_number, r.revision, r.state, totals_of(r.totals)
                )
                for r in await rows(
                    "SELECT quote_id, lead_id, quote_number, revision, state, totals "
                    "FROM quote_svc.quotes WHERE lead_id LIKE :d OR lead_id LIKE :p"
                )
            ]
            cols = ", ".join(TOTAL_FIELDS)
            db.orders = [
                OrderRow(r.order_id, r.quote_id, r.deal_id, r.state, totals_of(r._mapping))
                for r in await rows(
                    f"SELECT order_id, quote_id, deal_id, state, {cols} FROM order_svc.orders "  # noqa: S608 - schema names come from the stage registry
                    "WHERE deal_id LIKE :d OR deal_id LIKE :p"
                )
            ]
            db.invoices = [
                InvoiceRow(
                    r.invoice_id,
                    r.order_id,
                    r.deal_id,
                    r.state,
                    totals_of(r._mapping),
                    Decimal(r.amount_paid),
                    Decimal(r.balance_due),
                )
                for r in await rows(
                    f"SELECT invoice_id, order_id, deal_id, state, {cols}, amount_paid, "  # noqa: S608 - schema names come from the stage registry
                    "balance_due FROM invoice_svc.invoices "
                    "WHERE deal_id LIKE :d OR deal_id LIKE :p"
                )
            ]
            db.payments = [
                PaymentRow(r.payment_id, r.invoice_id, Decimal(r.amount))
                for r in await rows(
                    "SELECT p.payment_id, p.invoice_id, p.amount FROM invoice_svc.payments p "
                    "JOIN invoice_svc.invoices i USING (invoice_id) "
                    "WHERE i.deal_id LIKE :d OR i.deal_id LIKE :p"
                )
            ]
            for service in SERVICES:
                seen: set[UUID] = set()
                for i in range(0, len(ids), 5000):
                    chunk = ids[i : i + 5000]
                    result = await conn.execute(
                        text(
                            f"SELECT event_id FROM {service}.inbox "  # noqa: S608 - schema names come from the stage registry
                            "WHERE event_id = ANY(CAST(:ids AS uuid[]))"
                        ),
                        {"ids": chunk},
                    )
                    seen.update(row[0] for row in result)
                db.inbox[service] = seen
                db.outbox_rows[service] = int(
                    await conn.scalar(text(f"SELECT count(*) FROM {service}.outbox")) or 0  # noqa: S608 - schema names come from the stage registry
                )
    finally:
        await engine.dispose()
    return db


async def outbox_rows(database_url: str) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                s: int(await conn.scalar(text(f"SELECT count(*) FROM {s}.outbox")) or 0)  # noqa: S608 - schema names come from the stage registry
                for s in SERVICES
            }
    finally:
        await engine.dispose()


def event_ids(records: Iterable[Rec]) -> set[UUID]:
    return {r.env.event_id for r in records if r.env is not None}
