"""Accounting and the ERP around salesflow, as the lifecycle driver plays them: paying invoices,
crediting a returned line, paying back or applying customer credit when a refund falls due, and
(external invoicing) posting the ERP's invoices and its credit notes for cancelled orders.

Decisions are drawn per deal, as in `simulator.customers`. Which open invoice a customer's
credit is applied to depends on which invoices of the account are open at that moment, so that
one choice follows the arrival of events rather than the seed alone.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import money
from contracts.billing import (
    ApplyCredit,
    CreditInvoice,
    CreditLine,
    RecordRefund,
    RegisterExternalCreditNote,
)
from contracts.documents import DocumentTotals
from contracts.envelope import Envelope
from contracts.invoices import BilledLine, RecordPayment, RegisterExternalInvoice
from contracts.orders import CancelOrder
from simulator.books import (
    ON_DELIVERY,
    ON_ORDER,
    ZERO,
    SeenInvoice,
    SeenOrder,
    billed_per_line,
    billing_pieces,
    credit_pieces,
    credited_per_line,
    first_part,
    rest_of,
    taken_by,
)
from simulator.commands import Commands
from simulator.customers import Behaviour, Deal
from simulator.funnel import Funnel

CENT = Decimal("0.01")


class Accounting:
    """Reacts to a deal's invoices, credit notes and refunds due; counts them in `funnel`."""

    def __init__(self, behaviour: Behaviour, seed: int, funnel: Funnel, commands: Commands) -> None:
        self._b = behaviour
        self._seed = seed
        self.funnel = funnel
        self.command = commands
        # Open invoices nobody will pay, cancel or credit: where customer credit may go.
        self._targets: dict[tuple[UUID, str], dict[UUID, Decimal]] = {}

    def rng(self, deal: Deal, purpose: str) -> random.Random:
        return random.Random(f"{self._seed}:{deal.index}:{purpose}")

    # --- the ERP's invoices ---------------------------------------------------------------

    async def on_order_confirmed(self, deal: Deal, order: SeenOrder, env: Envelope[Any]) -> None:
        if not self._b.erp_invoices or order.plan.cancel_now:
            return
        p = env.payload
        part = first_part(order.lines) if order.plan.erp_split else {}
        if not part:
            await self._register(deal, order, f"ERP-{p.order_number}", None, p.totals)
            return
        order.erp_first = part
        pieces, totals = billing_pieces(order.lines, order.currency, part, {})
        lines = tuple(
            BilledLine(line_no=n, quantity=q, net_amount=a.net, tax_amount=a.tax)
            for n, q, a in pieces
        )
        totals_wire = DocumentTotals.from_money(totals)
        await self._register(deal, order, f"ERP-{p.order_number}-1", lines, totals_wire)

    async def _register(
        self,
        deal: Deal,
        order: SeenOrder,
        ref: str,
        lines: tuple[BilledLine, ...] | None,
        totals: DocumentTotals,
    ) -> None:
        today = datetime.now(UTC).date()
        invoice = RegisterExternalInvoice(
            external_invoice_id=ref,
            invoice_number=ref,
            order_id=order.order_id,
            currency=order.currency,
            totals=totals,
            issue_date=today,
            due_date=today + timedelta(days=30),
            lines=lines,
        )
        self.command.erp_invoices[ref] = await self.command(deal, invoice, f"erp_invoice:{ref}")

    async def _register_rest(self, deal: Deal, order: SeenOrder) -> None:
        """The ERP's second invoice: what the first left, each line's piece after it."""
        billed = [deal.invoices[i] for i in order.invoices if deal.invoices[i].kind == "standard"]
        taken = taken_by(billed)
        asked = rest_of(order.ordered(), {n: q for n, (q, _) in taken.items()})
        pieces, totals = billing_pieces(order.lines, order.currency, asked, taken)
        lines = tuple(
            BilledLine(line_no=n, quantity=q, net_amount=a.net, tax_amount=a.tax)
            for n, q, a in pieces
        )
        ref = f"ERP-{order.number}-2"
        await self._register(deal, order, ref, lines, DocumentTotals.from_money(totals))

    async def _erp_credit(self, deal: Deal, order: SeenOrder) -> bool:
        """The ERP credits what was invoiced of a cancelled order and will not ship, latest
        invoices first, once its invoices are all posted; while something shipped (a partial
        credit), after the payments it raced with, which would otherwise exceed what is left."""
        shipped_any = any(q > 0 for q in order.shipped.values())
        if deal.awaits("erp_invoice") or (shipped_any and deal.awaits("payment")):
            return False
        billed, credited = (
            billed_per_line(order, deal.invoices),
            credited_per_line(order, deal.invoices),
        )
        excess = {
            n: billed.get(n, ZERO) - credited.get(n, ZERO) - order.shipped.get(n, ZERO)
            for n in order.ordered()
        }
        for invoice_id in reversed(order.invoices):
            invoice = deal.invoices[invoice_id]
            asked: dict[int, Decimal] = {}
            for line in invoice.lines:
                left = line.quantity - invoice.credited_lines.get(line.line_no, ZERO)
                take = min(left, excess.get(line.line_no, ZERO))
                if take > 0:
                    asked[line.line_no] = take
                    excess[line.line_no] -= take
            if not asked:
                continue
            pieces, totals = credit_pieces(invoice, asked)
            ref = f"ERP-CN-{invoice.number}"
            note = RegisterExternalCreditNote(
                invoice_id=invoice.invoice_id,
                external_credit_note_id=ref,
                credit_note_number=ref,
                currency=invoice.currency,
                lines=tuple(CreditLine(line_no=n, quantity=q) for n, q, _ in pieces),
                totals=DocumentTotals.from_money(totals),
                issue_date=datetime.now(UTC).date(),
                reason=f"order {order.number} cancelled",
            )
            await self.command(deal, note, f"erp_credit:{ref}")
        return True

    # --- invoices ---------------------------------------------------------------------------

    async def on_invoice_posted(self, deal: Deal, env: Envelope[Any], cause: str) -> None:
        p = env.payload
        invoice = deal.invoice(p.invoice_id)
        invoice.posted = True
        invoice.order_id, invoice.number, invoice.kind = p.order_id, p.invoice_number, p.kind.value
        invoice.external_id, invoice.account_id = p.external_invoice_id, p.account_id
        invoice.currency, invoice.grand, invoice.lines = p.currency, p.totals.grand_total, p.lines
        invoice.deducted = sum((d.total_amount for d in p.deductions), ZERO)
        self._count_posted(deal, invoice, cause)
        order = deal.orders.get(p.order_id)
        if order is None:  # invoice.posted read before order.confirmed: reacted to after it
            return
        await self.on_order_invoice(deal, order, invoice)

    async def on_order_invoice(self, deal: Deal, order: SeenOrder, invoice: SeenInvoice) -> None:
        """An invoice of a known order: who pays what, which line is returned, what races."""
        if invoice.invoice_id in order.invoices:
            return
        order.invoices.append(invoice.invoice_id)
        if invoice.kind == "down_payment":
            order.down_payment = invoice.invoice_id
        if invoice.external_id == f"ERP-{order.number}-1":
            order.todo.add("erp_second")
        plan = order.plan
        if plan.cancel_now:
            return  # nobody pays for an order they withdrew (it is being cancelled)
        roll = self.rng(deal, f"invoice:{invoice.invoice_id}").random()
        asks = invoice.asks
        race = plan.race and "race" not in order.done
        if roll < self._b.pay_full or (race and roll >= self._b.pay_full + self._b.pay_part):
            amount = asks
        elif roll < self._b.pay_full + self._b.pay_part:
            amount = (asks / 2).quantize(CENT)
        else:
            amount = ZERO
        if race:
            order.done.add("race")
            await self._race(deal, order, invoice, amount)
        elif amount > 0:
            await self._pay(deal, invoice, amount)
        returned = plan.credit_line and not self._b.erp_invoices and "credit" not in order.done
        if returned and invoice.kind == "standard":
            order.done.add("credit")
            order.todo.add(f"credit:{invoice.invoice_id}")
        elif amount < asks:
            self._offer(order, invoice, asks - amount)

    async def _race(
        self, deal: Deal, order: SeenOrder, invoice: SeenInvoice, amount: Decimal
    ) -> None:
        """The cancel and the payment published at the same moment, in a drawn order."""
        cancels = (
            order.policy != ON_DELIVERY or self._b.erp_invoices or bool(first_part(order.lines))
        )
        if not cancels:  # billed per shipment and not splittable: shipped whole, nothing to cancel
            await self._pay(deal, invoice, amount)
            return
        self.funnel.counts["cancel-after-pay races"] += 1
        cancel = CancelOrder(
            order_id=order.order_id, reason="customer withdrew", requested_by="rep"
        )
        pay = (self._payment(invoice, amount), f"payment:{invoice.invoice_id}")
        # Each from its own producer client at the same moment; which client sends which is
        # drawn (their topics differ, so the workers see them in either order anyway).
        if self.rng(deal, f"race:{order.order_id}").random() < 0.5:
            await self.command.race(deal, (cancel, "cancel"), pay)
        else:
            await self.command.race(deal, pay, (cancel, "cancel"))

    async def _pay(self, deal: Deal, invoice: SeenInvoice, amount: Decimal) -> None:
        """Pay `amount`; some payers send the payment twice at once (two clients retrying the
        same payment id): invoice_svc records it once, the other copy changes nothing."""
        payment = (self._payment(invoice, amount), f"payment:{invoice.invoice_id}")
        if self.rng(deal, f"double:{invoice.invoice_id}").random() < self._b.double_payment:
            self.funnel.counts["payments sent twice at once"] += 1
            await self.command.race(deal, payment, payment, twins=True)
        else:
            await self.command(deal, *payment)

    @staticmethod
    def _payment(invoice: SeenInvoice, amount: Decimal) -> RecordPayment:
        return RecordPayment(
            payment_id=f"PAY-{invoice.number}-0",
            invoice_id=invoice.invoice_id,
            external_invoice_id=None,
            amount=amount,
            currency=invoice.currency,
            paid_at=datetime.now(UTC),
            method="bank_transfer",
        )

    def _offer(self, order: SeenOrder, invoice: SeenInvoice, left: Decimal) -> None:
        """An invoice left (partly) unpaid that nothing else will happen to (no cancellation,
        no credit, no down payment deducted): customer credit of the account may settle it."""
        quiet = not order.plan.cancels and order.policy in (ON_ORDER, ON_DELIVERY)
        if quiet and invoice.kind == "standard" and invoice.account_id is not None:
            key = (invoice.account_id, invoice.currency)
            self._targets.setdefault(key, {})[invoice.invoice_id] = left

    async def step(self, deal: Deal, order: SeenOrder, name: str) -> bool:
        """Take `name` if its moment has come; whether it was taken."""
        if name == "erp_second":
            await self._register_rest(deal, order)
            return True
        if name == "erp_credit":
            return await self._erp_credit(deal, order)
        if name.startswith("credit:"):
            invoice = deal.invoices[UUID(name.removeprefix("credit:"))]
            if deal.awaits(f"payment:{invoice.invoice_id}"):
                return False  # paid first: credited after, the money becomes a refund due
            line = self.rng(deal, f"credit:{invoice.invoice_id}").choice(invoice.lines)
            credit = CreditInvoice(
                invoice_id=invoice.invoice_id,
                credit_ref=f"RMA-{invoice.number}",
                lines=(CreditLine(line_no=line.line_no, quantity=min(Decimal(1), line.quantity)),),
                reason="one unit returned damaged",
                requested_by="ar.clerk@example.com",
            )
            await self.command(deal, credit, f"credit:{invoice.invoice_id}")
            return True
        return False

    # --- money ------------------------------------------------------------------------------

    def on_invoice_paid(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        deal.invoice(p.invoice_id).paid += p.amount
        c = self.funnel.counts
        c["invoices paid" if p.status.value == "complete" else "invoices partly paid"] += 1
        self.funnel.money(p.currency)["paid"] += p.amount

    def on_invoice_credited(self, deal: Deal, env: Envelope[Any], cause: str) -> None:
        p = env.payload
        invoice = deal.invoice(p.invoice_id)
        invoice.credited += p.totals.grand_total
        lines = {line.line_no: line for line in p.lines}
        for credited in p.order_lines:
            n = credited.line_no
            invoice.credited_lines[n] = invoice.credited_lines.get(n, ZERO) + credited.quantity
            if n in lines:
                done = invoice.credited_amounts.get(n, money.zero_amounts(p.currency))
                invoice.credited_amounts[n] = money.add_amounts(done, lines[n].amounts(p.currency))
        kind = (
            "from the ERP"
            if p.source.value == "external"
            else "for returned lines"
            if cause == "invoice.credit"
            else "down payments deducted"
            if cause in {"order.fulfilled", "order.confirmed"}
            else "for cancellations"
        )
        self.funnel.counts[f"credit notes {kind}"] += 1
        self.funnel.money(p.currency)["credited"] += p.totals.grand_total

    def on_credit_applied(self, deal: Deal, env: Envelope[Any]) -> None:
        p = env.payload
        deal.invoice(p.invoice_id).applied += p.amount
        if p.application_id in self.command.ours:
            self.funnel.money(p.currency)["customer credit applied"] += p.amount
            return
        # Not ours: invoice_svc settled one of the deal's invoices with money it freed itself
        # (a down payment deducted, a cancellation's credit notes).
        deal.internal_applied += p.amount
        self.funnel.money(p.currency)["credit applied by invoice_svc"] += p.amount

    async def on_refund_due(self, deal: Deal, env: Envelope[Any]) -> None:
        """Money became the customer's credit: apply it to another open invoice of the account
        (when drawn and there is one), pay back the rest."""
        p = env.payload
        deal.invoice(p.invoice_id).refund_due += p.amount
        self.funnel.counts["refunds due"] += 1
        self.funnel.money(p.currency)["refunds due"] += p.amount
        n = deal.refunds_due
        deal.refunds_due += 1
        left, key = p.amount, str(p.account_id)
        targets = self._targets.get((p.account_id, p.currency), {})
        if self.rng(deal, f"refund:{n}").random() < self._b.apply_credit:
            target = next((i for i, v in sorted(targets.items()) if v > 0), None)
            if target is not None and target != p.invoice_id:
                amount = min(left, targets[target])
                targets[target] -= amount
                left -= amount
                application_id = f"APPL-{deal.lead_id}-{n}"
                self.command.ours.add(application_id)
                apply = ApplyCredit(
                    invoice_id=target,
                    application_id=application_id,
                    account_id=p.account_id,
                    currency=p.currency,
                    amount=amount,
                )
                self.funnel.counts["refunds due applied to an open invoice"] += 1
                await self.command(deal, apply, "apply", key=key)
        if left > 0:
            refund = RecordRefund(
                refund_id=f"RF-{deal.lead_id}-{n}",
                account_id=p.account_id,
                currency=p.currency,
                amount=left,
                refunded_at=datetime.now(UTC),
                method="sepa_transfer",
            )
            await self.command(deal, refund, "refund", key=key)

    def on_refunded(self, env: Envelope[Any]) -> None:
        p = env.payload
        self.funnel.counts["refunds recorded"] += 1
        self.funnel.money(p.currency)["refunded"] += p.amount

    def _count_posted(self, deal: Deal, invoice: SeenInvoice, cause: str) -> None:
        c = self.funnel.counts
        c["invoices posted"] += 1
        if invoice.kind == "down_payment":
            c["down payment invoices"] += 1
        elif invoice.external_id is not None:
            c["ERP invoices"] += 1
        elif cause == "order.fulfilled":
            c["shipment invoices"] += 1
        else:  # at confirmation (or shipments read ahead of it, billed then)
            c["whole-order invoices"] += 1
        if invoice.deducted:
            c["invoices with a down payment deducted"] += 1
        self.funnel.money(invoice.currency)["invoiced"] += invoice.grand
        self.funnel.money(invoice.currency)["down payments deducted"] += invoice.deducted
        if deal.posted_at is None:
            deal.posted_at = time.monotonic()
            self.funnel.latencies_ms.append((deal.posted_at - deal.published_at) * 1000)
