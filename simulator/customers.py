"""The people around salesflow, as the lifecycle driver plays them: customers and fulfilment
deciding what to do with each quote and order (accounting is `simulator.accounting`).

Every decision is drawn per deal from (seed, deal number, what is decided), never from one shared
stream, so a deal decides the same way whatever order the events of all deals arrive in. The
draws added for billing (invoicing policy, the order's plan) come from streams of their own, so
the decisions that existed before them draw exactly what they drew.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope
from contracts.orders import CancelOrder, RecordFulfilment, ShippedLine
from contracts.quotes import (
    AcceptQuote,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)
from simulator.books import (
    DOWN_PAYMENT,
    ON_DELIVERY,
    OrderPlan,
    SeenInvoice,
    SeenOrder,
    billing_settled,
    first_part,
    money_settled,
    rest_of,
    shipped_of,
)
from simulator.commands import Command, Commands
from simulator.funnel import Funnel

DOWN_PAYMENT_RATES = (Decimal("0.2"), Decimal("0.3"), Decimal("0.5"))


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
    # Billing as accounting does it; each drawn from its own stream (see the module docstring).
    on_delivery: float = 0.20  # accepts asking to be billed per shipment
    down_payment: float = 0.15  # accepts asking for a down payment (a rate of DOWN_PAYMENT_RATES)
    split_shipment: float = 0.30  # orders shipped in two partial shipments
    cancel_remainder: float = 0.30  # of those, the unshipped remainder cancelled instead
    cancel_after_pay: float = 0.05  # orders cancelled as their first invoice is paid (a race)
    accept_reject_race: float = 0.04  # quotes accepted and rejected at once, by two clients
    double_payment: float = 0.05  # payments sent twice at once (same payment id), by two clients
    credit_line: float = 0.10  # orders whose first invoice gets one unit of a line credited
    apply_credit: float = 0.30  # customer credit applied to another open invoice, not paid back
    erp_split: float = 0.30  # external invoicing: the ERP bills an order in two invoices
    # The deployment's billing of orders that ask for none (invoice_svc reads the same variable).
    default_billing: str = field(
        default_factory=lambda: os.environ.get("SALESFLOW_INVOICE_BILLING", "on_order").lower()
    )

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
    open: dict[UUID, str] = field(default_factory=dict)  # commands sent, not answered yet
    orders: dict[UUID, SeenOrder] = field(default_factory=dict)
    invoices: dict[UUID, SeenInvoice] = field(default_factory=dict)
    failed: bool = False  # ended early: refused or dead-lettered
    refunds_due: int = 0  # refund.due handled (numbers the refund and application ids)
    internal_applied: Decimal = Decimal(0)  # credit invoice_svc applied to our invoices itself
    quote_race: bool = False  # its quote was accepted and rejected at once: one of them wins
    # The `traceparent` of the deal's latest event: the people's commands carry it, as a client
    # that reacts to a message does, so a traced deal stays one trace (README, Tracing).
    traceparent: bytes | None = None

    def invoice(self, invoice_id: UUID) -> SeenInvoice:
        return self.invoices.setdefault(invoice_id, SeenInvoice(invoice_id))

    def order_of(self, invoice: SeenInvoice) -> SeenOrder | None:
        return self.orders.get(invoice.order_id) if invoice.order_id else None

    def awaits(self, label: str) -> bool:
        return any(value == label or value.startswith(label) for value in self.open.values())

    def finished(self, native: bool) -> bool:
        """Every expected event seen, every command answered, billing and money settled."""
        if self.failed:
            return True
        if self.expect or self.open:
            return False
        orders = self.orders.values()
        settled = all(billing_settled(o, self.invoices, native=native) for o in orders)
        return settled and money_settled(self.invoices, self.internal_applied)

    def waiting_for(self, native: bool) -> str:
        parts = [f"expects {sorted(self.expect)}"] if self.expect else []
        if self.open:
            parts.append(f"answers to {sorted(self.open.values())}")
        parts.extend(
            f"order {o.number} billing (steps {sorted(o.todo)})"
            for o in self.orders.values()
            if not billing_settled(o, self.invoices, native=native)
        )
        if not money_settled(self.invoices, self.internal_applied):
            parts.append("refunds due")
        return "; ".join(parts)


class Customers:
    """Reacts to a deal's quote and order the way customers and fulfilment would, through
    `commands`; counts what happened in `funnel`."""

    def __init__(self, behaviour: Behaviour, seed: int, funnel: Funnel, commands: Commands) -> None:
        self._b = behaviour
        self._seed = seed
        self.funnel = funnel
        self.command = commands
        self._quote_decision: dict[str, str] = {}

    def rng(self, deal: Deal, purpose: str) -> random.Random:
        # Seeded from a string (sha512 of it), so the draw does not depend on PYTHONHASHSEED.
        return random.Random(f"{self._seed}:{deal.index}:{purpose}")

    def cancels(self, deal: Deal, order_id: Any) -> bool:
        """Whether the customer withdraws this order: drawn from the order id, so the answer is
        the same whether order.confirmed or invoice.posted is read first."""
        return self.rng(deal, f"order:{order_id}").random() < self._b.cancel_order

    def plan(self, deal: Deal, order_id: UUID) -> OrderPlan:
        b = self._b
        if self.cancels(deal, order_id):
            return OrderPlan(cancel_now=True)
        rng = self.rng(deal, f"plan:{order_id}")
        race, split, rest, credit, erp = (rng.random() for _ in range(5))
        if race < b.cancel_after_pay:
            return OrderPlan(race=True)
        cancel_remainder = split < b.split_shipment and rest < b.cancel_remainder
        return OrderPlan(
            split=split < b.split_shipment,
            cancel_remainder=cancel_remainder,
            credit_line=not cancel_remainder and credit < b.credit_line,
            erp_split=not cancel_remainder and erp < b.erp_split,
        )

    def billing_terms(self, deal: Deal, quote_number: str) -> dict[str, Any]:
        rng = self.rng(deal, f"billing:{quote_number}")
        roll, pick = rng.random(), rng.random()
        if roll < self._b.on_delivery:
            return {"invoicing_policy": InvoicingPolicy.ON_DELIVERY}
        if roll < self._b.on_delivery + self._b.down_payment:
            rate = DOWN_PAYMENT_RATES[int(pick * len(DOWN_PAYMENT_RATES))]
            return {"invoicing_policy": InvoicingPolicy.DOWN_PAYMENT, "down_payment_rate": rate}
        return {}

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
            race = self.rng(deal, f"race:{p.quote_number}:{p.revision}").random()
            if race < self._b.accept_reject_race:
                decision = "race"
        self._quote_decision[quote_key] = decision
        if decision == "race":
            await self._accept_or_reject(deal, env)
        elif decision == "accept":
            deal.expect |= {"quote.accepted", "order.confirmed"}
            terms = self.billing_terms(deal, p.quote_number)
            accept = AcceptQuote(
                quote_id=p.quote_id,
                accepted_by="customer",
                customer_po=f"PO-{p.quote_number}",
                **terms,
            )
            await self.command(deal, accept, "accept")
        elif decision == "reject":
            deal.expect |= {"quote.closed", "opportunity.closed"}
            reject = RejectQuote(
                quote_id=p.quote_id,
                reason=QuoteRejectReason.LOST,
                requested_by="customer",
                note="went with a competitor",
            )
            await self.command(deal, reject, "reject")
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
            revise = ReviseQuote(
                quote_id=p.quote_id, lines=lines, requested_by="sales.rep", note="one more of each"
            )
            await self.command(deal, revise, "revise")
        else:
            self.funnel.counts["quotes left open"] += 1

    async def _accept_or_reject(self, deal: Deal, env: Envelope[Any]) -> None:
        """The buyer accepts the quote while a colleague rejects it, each from their own client
        at the same moment: one wins, the other is refused (the quote is no longer open). What
        the deal then expects follows the winner (`LifecycleDriver`)."""
        p = env.payload
        self.funnel.counts["accept/reject races"] += 1
        deal.quote_race = True
        accept = AcceptQuote(
            quote_id=p.quote_id,
            accepted_by="customer",
            customer_po=f"PO-{p.quote_number}",
            **self.billing_terms(deal, p.quote_number),
        )
        reject = RejectQuote(
            quote_id=p.quote_id,
            reason=QuoteRejectReason.LOST,
            requested_by="procurement",
            note="budget withdrawn",
        )
        pair: tuple[Command, Command] = ((accept, "accept"), (reject, "reject"))
        if self.rng(deal, f"race-order:{p.quote_number}").random() < 0.5:
            pair = (pair[1], pair[0])
        await self.command.race(deal, *pair, one_wins=True)

    def on_order_confirmed(self, deal: Deal, env: Envelope[Any]) -> SeenOrder:
        p = env.payload
        self.funnel.counts["orders confirmed"] += 1
        asked = p.invoicing_policy.value if p.invoicing_policy else None
        policy = asked or self._b.default_billing
        self.funnel.counts[f"orders billed {policy}"] += 1
        plan = self.plan(deal, p.order_id)
        order = SeenOrder(
            p.order_id, p.order_number, p.currency, p.account_id, policy, p.lines, plan
        )
        deal.orders[p.order_id] = order
        if plan.cancel_now:
            order.todo.add("cancel")
        elif not plan.race or (policy == ON_DELIVERY and not self._b.erp_invoices):
            # A race on an order billed per shipment is run on the first shipment's invoice.
            order.todo.add("ship")
        return order

    def on_order_fulfilled(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        order = deal.orders.get(p.order_id)
        if p.completeness.value == "complete":
            self.funnel.counts["orders fulfilled"] += 1
        else:
            self.funnel.counts["partial shipments"] += 1
        if order is None:
            return
        order.record_shipped(shipped_of(p.lines))
        if not p.shipment_ref.endswith("-1") or order.fully_shipped or order.cancelled:
            return
        if order.plan.cancel_remainder:
            order.todo.add("cancel_rest")
        elif not order.plan.race:
            order.todo.add("ship_rest")

    def on_order_cancelled(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        c = self.funnel.counts
        c["orders cancelled"] += 1
        shipped = shipped_of(p.lines)
        c[
            "orders cancelled remainder"
            if any(q > 0 for _, q in shipped)
            else "orders cancelled whole"
        ] += 1
        order = deal.orders.get(p.order_id)
        if order is None:
            return
        order.cancelled = True
        order.record_shipped(shipped)
        order.todo -= {"ship", "ship_rest", "cancel_rest"}
        if self._b.erp_invoices:
            order.todo.add("erp_credit")

    async def step(self, deal: Deal, order: SeenOrder, name: str) -> bool:
        """Take `name` if its moment has come; whether it was taken."""
        if name == "cancel":
            await self.cancel(deal, order, "customer withdrew")
        elif name == "ship":
            if not self._ship_now(deal, order):
                return False
            part = first_part(order.lines) if order.plan.split or order.plan.race else {}
            if part:
                await self.ship(deal, order, f"SHIP-{order.number}-1", part)
            else:
                await self.ship(deal, order, f"SHIP-{order.number}", order.ordered())
        elif name == "ship_rest":
            rest = rest_of(order.ordered(), order.shipped)
            await self.ship(deal, order, f"SHIP-{order.number}-2", rest)
        elif name == "cancel_rest":
            # After the invoice of what shipped is posted and its payment answered: the money
            # the cancellation frees (a down payment's rest) settles that invoice first, and a
            # payment still on its way would then exceed what it asks.
            billed = any(deal.invoices[i].kind == "standard" for i in order.invoices)
            if deal.awaits("payment") or deal.awaits("erp_invoice") or not billed:
                return False
            await self.cancel(deal, order, "customer needs no more")
        else:
            return False
        return True

    def _ship_now(self, deal: Deal, order: SeenOrder) -> bool:
        """An order with a down payment ships once it is paid (or known to stay unpaid): paid
        after a shipment deducted part of it, the payment would exceed what it still asks."""
        if order.policy != DOWN_PAYMENT or self._b.erp_invoices:
            return True
        return order.down_payment is not None and not deal.awaits(f"payment:{order.down_payment}")

    async def ship(
        self, deal: Deal, order: SeenOrder, ref: str, quantities: dict[int, Decimal]
    ) -> None:
        shipment = RecordFulfilment(
            order_id=order.order_id,
            shipment_ref=ref,
            lines=tuple(ShippedLine(line_no=n, quantity_shipped=q) for n, q in quantities.items()),
        )
        await self.command(deal, shipment, f"ship:{ref}")

    async def cancel(self, deal: Deal, order: SeenOrder, reason: str) -> None:
        cancel = CancelOrder(order_id=order.order_id, reason=reason, requested_by="rep")
        await self.command(deal, cancel, "cancel")
