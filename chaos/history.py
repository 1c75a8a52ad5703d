"""What happened, as plain data: every record of the run on every topic, and the committed rows.

`collect` reads each topic from the offsets it had when the run started to its end, keeps the
run's records (keys `deal-<run>-...` and `poison-<run>-...`, and the account-level commands and
events keyed by the account id of one of the run's orders), decodes the envelopes, and reads the
rows of the run's deals from every service schema, the receivables of their accounts, the
numbering of every native invoice and credit note (gap-free is a property of the whole
sequence), plus the inbox entries of every event id seen; all in one snapshot.
The checker works on this `History` only, so its unit tests feed it histories built by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from aiokafka import TopicPartition

from chaos.poison import PoisonRecord
from contracts.envelope import Envelope, decode
from contracts.errors import InvalidMessage
from contracts.ticks import TimeTicked
from contracts.topics import ALL_TOPICS, topic_for_event
from shared import kafka_clients, tolerant_records
from shared.topic_partitions import topic_partitions

Totals = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]  # subtotal, discount, net, tax, grand
TOTAL_FIELDS = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")
QtyLines = tuple[tuple[int, Decimal], ...]  # (order line number, quantity), by line number
ZERO = Decimal(0)
TICK_TOPIC = topic_for_event(TimeTicked.EVENT_TYPE).name
# Where records keyed by an account id (refunds and credit applications) travel.
ACCOUNT_TOPICS = frozenset(
    {"invoice.commands", "invoice.refunded", "invoice.rejected", "invoice_svc.dlq"}
)


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
    valid_until: date | None = None


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
    kind: str = "standard"
    source: str = "native"
    account_id: UUID | None = None
    currency: str = "EUR"
    amount_credited: Decimal = ZERO
    credit_applied: Decimal = ZERO
    moved_to_credit: Decimal = ZERO
    lines: QtyLines = ()  # what it bills (a down payment: its rate lines, no order line)


@dataclass(frozen=True)
class BilledOrderRow:
    """An order as invoice_svc keeps it (its own copy: state confirmed or cancelled)."""

    order_id: UUID
    deal_id: str
    state: str
    billing: str | None  # the order's invoicing policy; None: the deployment's default
    account_id: UUID | None
    currency: str
    lines: QtyLines  # ordered
    shipped: QtyLines
    totals: Totals


@dataclass(frozen=True)
class CreditNoteRow:
    credit_note_id: UUID
    credit_note_number: str
    invoice_id: UUID
    order_id: UUID
    deal_id: str
    source: str
    totals: Totals
    order_lines: QtyLines  # order lines and quantities it takes back


@dataclass(frozen=True)
class EntryRow:
    """A receivable entry: + asks (invoice, refund paid out), - settles; invoice_id None: the
    account's customer credit."""

    account_id: UUID
    currency: str
    kind: str
    document_id: str
    invoice_id: UUID | None
    amount: Decimal


@dataclass(frozen=True)
class CreditRow:
    account_id: UUID
    currency: str
    balance: Decimal


@dataclass(frozen=True)
class RefundRow:
    refund_id: str
    account_id: UUID
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class NumberStats:
    """One year of one native numbering (kind invoice or credit_note), over the whole table:
    how many documents, how many distinct numbers, the lowest and highest, and the year's
    counter. Year 0 counts the numbers that do not read <prefix>-<year>-<n>."""

    kind: str
    year: int
    documents: int
    distinct: int
    lowest: int
    highest: int
    last: int


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
    billed_orders: list[BilledOrderRow] = field(default_factory=list)
    credit_notes: list[CreditNoteRow] = field(default_factory=list)
    entries: list[EntryRow] = field(default_factory=list)
    credits: list[CreditRow] = field(default_factory=list)
    refunds: list[RefundRow] = field(default_factory=list)
    numbers: list[NumberStats] = field(default_factory=list)
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
    default_billing: str = "on_order"  # invoice_svc's policy for orders that ask for none


def totals_of(values: Mapping[str, Any]) -> Totals:
    return tuple(Decimal(str(values[name])) for name in TOTAL_FIELDS)  # type: ignore[return-value]


def run_keys(run_id: str) -> tuple[str, str]:
    return f"deal-{run_id}-", f"poison-{run_id}-"


async def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = kafka_clients.consumer(bootstrap=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(bootstrap, [spec.name for spec in ALL_TOPICS])
        # Assigned first: aiokafka then loads the partitions' leaders in one metadata request.
        consumer.assign(parts)
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def read_records(
    bootstrap: str, start: Mapping[TopicPartition, int], run_id: str
) -> list[Rec]:
    """Every record of the run between `start` and the current end of each partition."""
    # A partition may hold a record whose header name is not UTF-8 (the poison fault's, or a
    # test's): aiokafka would fail the whole read on it, as it would a worker's poll.
    tolerant_records.install()
    prefixes = run_keys(run_id)
    consumer = kafka_clients.consumer(
        bootstrap=bootstrap,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        parts = list(start)
        # Assigned first: aiokafka then loads the partitions' leaders in one metadata request.
        # Those with nothing to read are paused, not unassigned (a second assignment right after
        # the first one sometimes left aiokafka's fetcher unable to stop).
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        todo = {tp for tp in parts if ends[tp] > start[tp]}
        consumer.pause(*(tp for tp in parts if tp not in todo))
        for tp in todo:
            consumer.seek(tp, start[tp])
        records: list[Rec] = []
        by_account: list[Rec] = []
        while todo:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, batch in batches.items():
                for r in batch:
                    key = r.key.decode("utf-8", "replace") if r.key else ""
                    # ticks belong to no deal: every tick of the run is part of its history
                    if key.startswith(prefixes) or r.topic == TICK_TOPIC:
                        records.append(_rec(r, key))
                    elif r.topic in ACCOUNT_TOPICS and _is_uuid(key):
                        by_account.append(_rec(r, key))
                if batch and batch[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
            for tp in list(todo):
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
        accounts = {
            str(r.env.payload.account_id)
            for r in records
            if r.env is not None and r.env.event_type == "order.confirmed"
        }
        return records + [r for r in by_account if r.key in accounts]
    finally:
        await consumer.stop()


def _is_uuid(key: str) -> bool:
    try:
        UUID(key)
    except ValueError:
        return False
    return True


def _rec(r: Any, key: str) -> Rec:
    env = None
    if not r.topic.endswith(".dlq") and r.value is not None:
        with contextlib.suppress(InvalidMessage):
            env = decode(r.value, max_bytes=10 * 1024 * 1024)
    return Rec(r.topic, r.partition, r.offset, key, r.timestamp, tuple(r.headers), env)


def event_ids(records: Iterable[Rec]) -> set[UUID]:
    return {r.env.event_id for r in records if r.env is not None}
