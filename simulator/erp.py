"""The ERP, played from the published contracts alone.

A deployment (`contracts.stages.DEPLOYMENTS`) leaves some stages to an ERP. This player reads what
salesflow hands over on the topics of the stages it runs and publishes, on the same topics and in
the same contracts, what an ERP running the other stages would: its own quote for a qualified lead
(crm-leads), its sales order for an accepted quote, its invoice for that order, and the customer's
payment. Only `contracts` is imported: whatever it does, an integrator can do with the published
schemas. `salesflow drive --deployment` and the e2e test of each deployment use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Self
from uuid import UUID, uuid5

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.base import Payload
from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.envelope import Envelope, decode, encode, kafka_headers, make_envelope
from contracts.invoices import InvoicePaid, InvoicePosted, InvoiceSource, PaymentStatus
from contracts.leads import LeadQualified
from contracts.money import sum_totals
from contracts.orders import OrderConfirmed
from contracts.parties import CustomerDetails
from contracts.quotes import QuoteAccepted, QuoteIssued
from contracts.stages import Deployment, stage
from contracts.topics import ALL_TOPICS, TopicKind, topic, topic_for_event

PRODUCER: Final = "erp"
_IDS: Final = UUID("3e0f7a51-2c4b-4d8e-9a16-5b7c8d9e0f12")
_TAX_RATE: Final = Decimal("0.19")
_TERMS: Final = PaymentTerms.NET_30


def handovers(plan: Deployment) -> tuple[str, ...]:
    """The topics a stage salesflow runs in `plan` publishes for a stage the ERP plays there,
    in map order: who reads what is the topic map's (`TopicSpec.readers`), declared once.
    (What it reads and has no part to play on, master data, it leaves to its own books.)"""
    ours = {stage(name).service for name in plan.runs}
    theirs = {stage(name).service for name in plan.erp_stages}
    return tuple(
        spec.name
        for spec in ALL_TOPICS
        if spec.kind is TopicKind.OUTBOUND and spec.owner in ours and theirs & set(spec.readers)
    )


class ErpPlayer:
    """Plays the ERP's stages of `plan` until stopped; `paid` holds the deals it collected."""

    def __init__(
        self,
        bootstrap: str,
        plan: Deployment,
        *,
        clock: Callable[[], datetime] | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        """`client_options`: aiokafka's connection keywords (security protocol, SASL, TLS
        context), whatever the integrator's own configuration makes them."""
        self._bootstrap = bootstrap
        self._options = dict(client_options or {})
        self._plan = plan
        self._clock = clock or (lambda: datetime.now(UTC))
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self.paid: set[str] = set()
        self.published: dict[str, int] = {}

    @property
    def reads(self) -> tuple[str, ...]:
        """The topics it reads: the hand-overs to a stage the ERP plays (`handovers`)."""
        return handovers(self._plan)

    async def __aenter__(self) -> Self:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, **self._options
        )
        await self._producer.start()
        if self.reads:
            # Assigned, not a group member: it starts at the end of each partition, so it plays
            # the deals that come after it starts, and nothing it reads is ever committed.
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap, enable_auto_commit=False, **self._options
            )
            await self._consumer.start()
            partitions = [
                TopicPartition(name, p)
                for name in self.reads
                for p in range(topic(name).partitions)
            ]
            self._consumer.assign(partitions)
            await self._consumer.seek_to_end(*partitions)
            for tp in partitions:
                await self._consumer.position(tp)
            self._task = asyncio.create_task(self._run(), name="erp-player")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    if record.value is None:
                        continue
                    envelope = decode(record.value)
                    # Never its own documents: it carried on with each when it made it.
                    if envelope.producer != PRODUCER:
                        await self.handle(envelope)

    async def handle(self, envelope: Envelope[Any]) -> None:
        """React to one hand-over as the ERP would."""
        payload = envelope.payload
        if isinstance(payload, LeadQualified) and "quote" in self._plan.erp_stages:
            issued, accepted = self.quote_for(payload)
            await self._publish(envelope, issued)
            accepted_envelope = await self._publish(envelope, accepted)
            await self.handle(accepted_envelope)
        elif isinstance(payload, QuoteAccepted) and "order" in self._plan.erp_stages:
            order = self.order_for(payload)
            await self._publish(envelope, order)
            if "invoice" in self._plan.erp_stages:
                invoice = self.invoice_for(order)
                await self._publish(envelope, invoice)
                if invoice.totals.grand_total > 0:
                    await self._publish(envelope, self.payment_for(invoice))
                self.paid.add(envelope.deal_id)

    # --- the ERP's documents, built from the contracts --------------------------------------

    def quote_for(self, lead: LeadQualified) -> tuple[QuoteIssued, QuoteAccepted]:
        """The ERP's quote for a qualified lead, priced from its own list, and the customer's
        acceptance of it."""
        currency = lead.currency
        lines = tuple(
            DocumentLine.priced(
                line_no=n,
                sku=interest.sku,
                description=interest.description or interest.sku,
                quantity=interest.quantity,
                unit="each",
                unit_price=_list_price(interest.sku),
                discount_amount=Decimal(0),
                tax_rate=_TAX_RATE,
                currency=currency,
            )
            for n, interest in enumerate(lead.product_interests, start=1)
        )
        account = lead.account
        customer = CustomerDetails(
            account_id=lead.account_id,
            sold_to=(account.legal_name if account else None) or lead.account_name,
            bill_to=account.bill_to if account else None,
            ship_to=account.ship_to if account else None,
            tax_id=account.tax_id if account else None,
            erp_customer_number=account.erp_customer_number if account else None,
        )
        today = self._clock().date()
        number = _number("ERP-Q", lead.lead_id)
        document: dict[str, Any] = {
            "quote_id": uuid5(_IDS, f"quote:{lead.lead_id}"),
            "quote_number": number,
            "revision": 1,
            "opportunity_id": lead.opportunity_id,
            "lead_id": lead.lead_id,
            "account_id": lead.account_id,
            "account_name": lead.account_name,
            "contact_id": lead.contact_id,
            "contact": lead.contact,
            "price_list_id": "ERP",
            "customer_details": customer,
            "currency": currency,
            "lines": lines,
            "totals": _totals(lines, currency),
            "payment_terms": _TERMS,
        }
        issued = QuoteIssued(**document, valid_from=today, valid_until=today + timedelta(days=30))
        accepted = QuoteAccepted(**document, accepted_at=self._clock())
        return issued, accepted

    def order_for(self, quote: QuoteAccepted) -> OrderConfirmed:
        """The ERP's sales order for an accepted quote: its lines and totals as quoted, to the
        cent, and who buys, who pays and where it goes as the quote says."""
        customer = quote.customer_details or CustomerDetails(
            account_id=quote.account_id, sold_to=quote.account_name
        )
        return OrderConfirmed(
            order_id=uuid5(_IDS, f"order:{quote.quote_id}"),
            order_number=_number("ERP-SO", str(quote.quote_id)),
            quote_id=quote.quote_id,
            quote_number=quote.quote_number,
            opportunity_id=quote.opportunity_id,
            lead_id=quote.lead_id,
            account_id=quote.account_id,
            account_name=quote.account_name,
            contact_id=quote.contact_id,
            contact=quote.contact,
            price_list_id=quote.price_list_id,
            currency=quote.currency,
            lines=quote.lines,
            totals=_totals(quote.lines, quote.currency),
            payment_terms=quote.payment_terms,
            customer_po=quote.customer_po,
            customer_details=customer,
            requested_delivery_date=quote.requested_delivery_date,
            shipping_method=quote.shipping_method,
            confirmed_at=self._clock(),
        )

    def invoice_for(self, order: OrderConfirmed) -> InvoicePosted:
        today = self._clock().date()
        number = _number("ERP-INV", str(order.order_id))
        return InvoicePosted(
            invoice_id=uuid5(_IDS, f"invoice:{order.order_id}"),
            invoice_number=number,
            source=InvoiceSource.EXTERNAL,
            external_invoice_id=number,
            order_id=order.order_id,
            order_number=order.order_number,
            quote_id=order.quote_id,
            account_id=order.account_id,
            account_name=order.account_name,
            currency=order.currency,
            lines=order.lines,
            totals=order.totals,
            customer_details=order.customer_details,
            customer_po=order.customer_po,
            payment_terms=order.payment_terms,
            issue_date=today,
            due_date=today + timedelta(days=30),
        )

    def payment_for(self, invoice: InvoicePosted) -> InvoicePaid:
        amount = invoice.totals.grand_total
        return InvoicePaid(
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.invoice_number,
            payment_id=_number("ERP-PAY", str(invoice.invoice_id)),
            amount=amount,
            currency=invoice.currency,
            paid_at=self._clock(),
            amount_paid_total=amount,
            balance_due=Decimal(0).quantize(amount),
            status=PaymentStatus.COMPLETE,
        )

    async def _publish(self, cause: Envelope[Any], payload: Payload) -> Envelope[Any]:
        assert self._producer is not None
        envelope = make_envelope(
            payload,
            event_type=payload.EVENT_TYPE,
            deal_id=cause.deal_id,
            producer=PRODUCER,
            occurred_at=self._clock(),
            causation_id=cause.event_id,
            event_id=uuid5(_IDS, f"{payload.EVENT_TYPE}:{cause.event_id}"),
        )
        await self._producer.send_and_wait(
            topic_for_event(envelope.event_type).name,
            value=encode(envelope),
            key=envelope.deal_id.encode(),
            headers=kafka_headers(envelope),
        )
        self.published[envelope.event_type] = self.published.get(envelope.event_type, 0) + 1
        return envelope


def _list_price(sku: str) -> Decimal:
    """The ERP's own price list: a stable price per sku (10.00 to 99.99)."""
    return Decimal(1000 + zlib.crc32(sku.encode()) % 9000) / 100


def _number(prefix: str, seed: str) -> str:
    return f"{prefix}-{zlib.crc32(seed.encode()):010d}"


def _totals(lines: tuple[DocumentLine, ...], currency: str) -> DocumentTotals:
    return DocumentTotals.from_money(
        sum_totals((line.amounts(currency) for line in lines), currency)
    )
