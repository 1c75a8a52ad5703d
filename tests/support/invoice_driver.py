"""Drives invoice_svc's handlers against one in-memory InvoiceBook, as a batch would, and reads
back what they published: the unit tests' way in through the front door (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.documents import DocumentTotals
from contracts.envelope import Envelope, decode
from contracts.invoices import BilledLine
from contracts.orders import OrderConfirmed
from contracts.topics import topic_for_event
from services.invoice_svc import domain
from services.invoice_svc.handlers import HANDLERS
from services.invoice_svc.store import InvoiceBook
from shared.messages import Incoming
from tests.support import invoices

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NATIVE = domain.InvoicingPolicy()
EXTERNAL = domain.InvoicingPolicy(mode=domain.InvoicingMode.EXTERNAL)
Events = list[tuple[str, Envelope[Any]]]


def native_book(last_invoice: int = 0, last_credit_note: int = 0, year: int = 2026) -> InvoiceBook:
    """A book whose batch locked the year's invoice and credit note counters."""
    return InvoiceBook(
        counters={year: domain.InvoiceCounter(year, last_invoice)},
        credit_counters={year: domain.InvoiceCounter(year, last_credit_note)},
    )


def incoming(envelope: Envelope[Any]) -> Incoming[Any]:
    return Incoming(envelope, topic_for_event(envelope.event_type).name, 0, 0)


def handle(
    book: InvoiceBook,
    envelope: Envelope[Any],
    policy: domain.InvoicingPolicy = NATIVE,
    now: datetime = NOW,
) -> Events:
    """One message through its handler; the events it publishes, decoded, in order."""
    out = HANDLERS[envelope.event_type](book, incoming(envelope), policy, now)
    return [(o.topic, decode(o.payload or b"")) for o in out]


def topics(events: Events) -> list[str]:
    return [topic for topic, _ in events]


def only(events: Events, topic: str) -> Any:
    """The payload of the one event published, which must be on `topic`."""
    assert topics(events) == [topic], events
    return events[0][1].payload


def on(events: Events, topic: str) -> list[Any]:
    """The payloads published on `topic`, in order."""
    return [envelope.payload for t, envelope in events if t == topic]


def refused(events: Events) -> str:
    """The reason code of the one rejection published."""
    return str(only(events, "invoice.rejected").reason_code)


@dataclass
class Desk:
    """One book and one policy, many messages: a scenario's state between steps."""

    policy: domain.InvoicingPolicy = NATIVE
    book: InvoiceBook = field(default_factory=native_book)

    def send(self, envelope: Envelope[Any], now: datetime = NOW) -> Events:
        return handle(self.book, envelope, self.policy, now)

    def invoice(self, invoice_id: UUID) -> domain.Invoice:
        found = self.book.invoice(invoice_id)
        assert found is not None, invoice_id
        return found

    def order(self, order_id: UUID) -> domain.Order:
        found = self.book.order(order_id)
        assert found is not None, order_id
        return found

    def credit(self, account_id: UUID, currency: str = "EUR") -> Decimal:
        held = self.book.credits.get((account_id, currency))
        return held.balance if held is not None else Decimal(0)

    def outstanding(self, account_id: UUID, currency: str = "EUR") -> Decimal:
        """invoiced - credited - paid + refunded, from the receivable entries."""
        return sum_of(
            e.amount
            for e in self.book.new_entries
            if (e.account_id, e.currency) == (account_id, currency)
        )


def sum_of(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


def for_account(confirmed: Envelope[OrderConfirmed], account_id: UUID) -> Envelope[OrderConfirmed]:
    """The same order confirmation for another account (the builder derives one per order)."""
    payload = confirmed.payload.model_copy(update={"account_id": account_id})
    return confirmed.model_copy(update={"payload": payload})


def erp_invoice(
    deal_id: str,
    order_id: UUID,
    external_invoice_id: str,
    lines: tuple[tuple[int, str, str | None, str | None], ...],
    totals: DocumentTotals,
    *,
    currency: str = "EUR",
) -> Envelope[Any]:
    """An ERP invoice billing (order line, quantity, net given, tax given) of an order."""
    envelope = invoices.register_external(
        deal_id, order_id, external_invoice_id, totals=totals, currency=currency
    )
    billed = tuple(
        BilledLine(
            line_no=n,
            quantity=Decimal(q),
            net_amount=None if net is None else Decimal(net),
            tax_amount=None if tax is None else Decimal(tax),
        )
        for n, q, net, tax in lines
    )
    return envelope.model_copy(
        update={"payload": envelope.payload.model_copy(update={"lines": billed})}
    )
