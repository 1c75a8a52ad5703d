"""The people around salesflow, as the lifecycle driver plays them: customers, fulfilment and
accounting deciding what to do with each quote, order and invoice.

Every decision is drawn per deal from (seed, deal number, what is decided), never from one shared
stream, so a deal decides the same way whatever order the events of all deals arrive in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.envelope import Envelope, make_envelope
from contracts.invoices import RecordPayment, RegisterExternalInvoice
from contracts.orders import CancelOrder, RecordFulfilment, ShippedLine
from contracts.quotes import (
    AcceptQuote,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)
from simulator.funnel import Funnel

PRODUCER = "lifecycle-driver"
Send = Callable[[str, Envelope[Any]], Awaitable[None]]


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

    def quote_decision(self, roll: float) -> str:
        """What the customer does with an issued quote, for a uniform roll in [0, 1)."""
        if roll < self.accept:
            return "accept"
        if roll < self.accept + self.reject:
            return "reject"
        if roll < self.accept + self.reject + self.revise:
            return "revise"
        return "ignore"


@dataclass
class Deal:
    lead_id: str
    kind: str
    index: int = 0
    published_at: float = 0.0
    expect: set[str] = field(default_factory=set)  # terminal event types still awaited
    done_at: float | None = None
    posted_at: float | None = None
    events: list[str] = field(default_factory=list)


def envelope(payload: Any, event_type: str, deal_id: str) -> Envelope[Any]:
    return make_envelope(
        payload,
        event_type=event_type,
        deal_id=deal_id,
        producer=PRODUCER,
        occurred_at=datetime.now(UTC),
    )


class Customers:
    """Reacts to a deal's quote, order and invoice the way the people around salesflow would,
    through `send` (the driver's publisher); counts what happened in `funnel`."""

    def __init__(self, behaviour: Behaviour, seed: int, funnel: Funnel, send: Send) -> None:
        self._b = behaviour
        self._seed = seed
        self.funnel = funnel
        self._send = send
        self._quote_decision: dict[str, str] = {}
        self.invoiced: dict[Any, Decimal] = {}

    def cancels(self, deal: Deal, order_id: Any) -> bool:
        """Whether the customer withdraws this order: drawn from the order id, so the answer is
        the same whether order.confirmed or invoice.posted is read first."""
        return self.rng(deal, f"order:{order_id}").random() < self._b.cancel_order

    def rng(self, deal: Deal, purpose: str) -> random.Random:
        # Seeded from a string (sha512 of it), so the draw does not depend on PYTHONHASHSEED.
        return random.Random(f"{self._seed}:{deal.index}:{purpose}")

    async def on_quote_issued(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["quotes issued"] += 1
        quote_key = f"{p.quote_number}"
        decision = self._quote_decision.get(quote_key)
        if decision == "revise":  # the revision came back: accept it
            decision = "accept"
        else:
            roll = self.rng(deal, f"quote:{p.quote_number}:{p.revision}").random()
            decision = self._b.quote_decision(roll)
        self._quote_decision[quote_key] = decision
        if decision == "accept":
            deal.expect |= {"quote.accepted", "order.confirmed"}
            await self._send(
                "quote.commands",
                envelope(
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
                envelope(
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
                envelope(
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

    async def on_order_confirmed(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["orders confirmed"] += 1
        if self.cancels(deal, p.order_id):
            deal.expect.add("order.cancelled")
            await self._send(
                "order.commands",
                envelope(
                    CancelOrder(
                        order_id=p.order_id, reason="customer withdrew", requested_by="rep"
                    ),
                    "order.cancel",
                    deal.lead_id,
                ),
            )
            return
        # invoice.posted travels on another topic than order.confirmed and may be read first.
        deal.expect |= {"order.fulfilled", "invoice.posted"} - set(deal.events)
        await self._send(
            "order.commands",
            envelope(
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
                envelope(
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

    async def on_invoice_posted(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["invoices posted"] += 1
        self.funnel.amounts["invoiced"] += p.totals.grand_total
        self.invoiced[p.invoice_id] = p.totals.grand_total
        if deal.posted_at is None:
            deal.posted_at = time.monotonic()
            self.funnel.latencies_ms.append((deal.posted_at - deal.published_at) * 1000)
        if self.cancels(deal, p.order_id):
            return  # nobody pays for an order they withdrew (it is being cancelled)
        roll = self.rng(deal, f"invoice:{p.invoice_id}").random()
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
                envelope(
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
