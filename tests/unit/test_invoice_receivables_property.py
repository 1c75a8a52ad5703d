"""For any sequence of orders (EUR and JPY, the three billing policies), shipments, credit notes,
payments, cancellations, refunds and credit applications, driven through the handlers against
one InvoiceBook, the books hold after every step: receivables = invoiced - credited - paid +
refunded to the cent, every invoice's balance is its entries and never negative, customer credit
is its entries and never negative, nothing is billed beyond the order or credited beyond the
bill, numbers have no gaps, and a fully billed order's invoices add up to it to the cent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from contracts import money
from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope
from contracts.orders import OrderConfirmed
from services.invoice_svc import domain
from services.invoice_svc.handlers import HANDLERS
from services.invoice_svc.store import InvoiceBook
from tests.support import invoices as s
from tests.support.invoice_driver import NOW, for_account, incoming, native_book, sum_of

D = Decimal
ACCOUNTS = (UUID(int=0xA), UUID(int=0xB))
# Unit prices: cents or yen, or one decimal more (the order's own pricing rule rounds them);
# discounts up to the whole base (pieces of a heavily discounted line must never net below
# zero: test_invoice_billing.py::test_no_piece_of_a_line_nets_below_zero).
_line = st.tuples(
    st.integers(min_value=1, max_value=6),  # quantity
    st.integers(min_value=100, max_value=999_999),  # unit price in tenths of a minor unit
    st.integers(min_value=0, max_value=10),  # discount, tenths of the base
    st.sampled_from(["0", "0.07", "0.1", "0.19"]),
)
_order = st.tuples(
    st.sampled_from(["EUR", "JPY"]),
    st.sampled_from([None, *InvoicingPolicy]),
    st.sampled_from([None, "0.3", "0.5"]),
    st.integers(min_value=0, max_value=1),  # account
    st.lists(_line, min_size=1, max_size=3),
    st.integers(min_value=0, max_value=3),  # 0: read late, after whatever steps come first
)


def confirmation(n: int, spec: tuple[Any, ...]) -> Envelope[OrderConfirmed]:
    currency, policy, rate, account, lines, _ = spec
    minor = money.minor_unit(currency)
    specs = []
    for qty, tenths, discount, tax_rate in lines:
        price = D(tenths).scaleb(-minor - 1)
        base = money.round_money(qty * price, currency)
        off = money.round_money(base * discount / 10, currency)
        specs.append((f"SKU-{n}", str(qty), str(price), str(off), tax_rate))
    order = s.order_confirmed(
        f"D{n}",
        order_id=UUID(int=n + 1),
        currency=currency,
        lines=s.priced_lines(currency, tuple(specs)),
        policy=policy,
        down_payment_rate=rate,
    )
    return for_account(order, ACCOUNTS[account])


@dataclass
class World:
    """order_svc's side of the story (what shipped, what was cancelled) and invoice_svc's book."""

    confirmations: list[Envelope[OrderConfirmed]]
    policy: domain.InvoicingPolicy
    book: InvoiceBook = field(default_factory=native_book)
    shipped: dict[UUID, dict[int, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    cancelled: set[UUID] = field(default_factory=set)
    pending: list[Envelope[Any]] = field(default_factory=list)
    sent: list[Envelope[Any]] = field(default_factory=list)

    def send(self, envelope: Envelope[Any]) -> list[str]:
        self.sent.append(envelope)
        out = HANDLERS[envelope.event_type](self.book, incoming(envelope), self.policy, NOW)
        return [o.topic for o in out]

    def invoices(self) -> list[domain.Invoice]:
        return sorted(self.book.invoices.values(), key=lambda i: i.invoice_number)

    def credits(self) -> list[domain.AccountCredit]:
        held = [c for c in self.book.credits.values() if c.balance > 0]
        return sorted(held, key=lambda c: (str(c.account_id), c.currency))

    def shipped_totals(self, order: OrderConfirmed) -> dict[int, tuple[str, str]]:
        done = self.shipped[order.order_id]
        return {x.line_no: (str(x.quantity), str(done.get(x.line_no, 0))) for x in order.lines}


def share(amount: Decimal, percent: int, currency: str) -> Decimal:
    """`percent` % (1..100) of `amount`, at least one minor unit."""
    least = D(1).scaleb(-money.minor_unit(currency))
    return max(least, money.round_money(amount * (percent % 100 + 1) / 100, currency))


@dataclass(frozen=True)
class Step:
    """The n-th drawn step: which order or invoice (i), how much (j), which variant (k)."""

    n: int
    i: int
    j: int
    k: int

    def order(self, world: World) -> Envelope[OrderConfirmed]:
        return world.confirmations[self.i % len(world.confirmations)]

    def invoice(self, world: World) -> domain.Invoice | None:
        """Mostly one that still asks for money (most steps on a settled one are refused)."""
        invoices = world.invoices()
        live = [x for x in invoices if x.balance_due > 0] if self.k % 4 else []
        return (live or invoices)[self.i % len(live or invoices)] if invoices else None

    def seen(self, prefix: str, every: int) -> str:
        """A new id for this step; every `every`-th step, the previous step's (a retry)."""
        return f"{prefix}{self.n if self.k % every else self.n - 1}"


Message = Envelope[Any] | None


def _confirm(world: World, step: Step) -> Message:
    return step.order(world)  # the first time, or a redelivery


def _ship(world: World, step: Step) -> Message:
    confirmed = step.order(world)
    order = confirmed.payload
    if order.order_id in world.cancelled:
        return None
    done = world.shipped[order.order_id]
    for line in order.lines:
        more = D((step.j >> line.line_no) % 3)
        done[line.line_no] = min(line.quantity, done.get(line.line_no, D(0)) + more)
    totals = world.shipped_totals(order)
    shipment = s.order_fulfilled(confirmed.deal_id, order.order_id, f"S{step.n}", totals)
    if step.k % 3 == 0:  # read later: an order's events travel on three topics
        world.pending.append(shipment)
        return None
    return shipment


def _deliver(world: World, step: Step) -> Message:
    if world.pending:
        return world.pending.pop(step.j % len(world.pending))
    # Nothing held back: a redelivery, same event id.
    return world.sent[step.j % len(world.sent)] if world.sent else None


def _cancel_order(world: World, step: Step) -> Message:
    confirmed = step.order(world)
    order = confirmed.payload
    world.cancelled.add(order.order_id)
    totals = world.shipped_totals(order)
    return s.order_cancelled(confirmed.deal_id, order.order_id, shipped=totals)


def _pay(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    if invoice is None:
        return None
    due, currency = invoice.balance_due, invoice.currency
    part, more = share(due, step.j, currency), share(due, step.j, currency)
    amount = (part, due, due + more)[step.k % 3] if due > 0 else share(D(100), step.j, currency)
    return s.record_payment(
        invoice.deal_id,
        str(amount),
        invoice_id=invoice.invoice_id,
        payment_id=step.seen("P", 5),
        currency=currency,
    )


def _pay_split(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    if invoice is None:
        return None
    key = (invoice.account_id, invoice.currency)
    peers = [x for x in world.invoices() if (x.account_id, x.currency) == key and x.balance_due > 0]
    if len(peers) < 2:
        return None
    first, second = peers[step.j % len(peers)], peers[(step.j + 1) % len(peers)]
    a, b = first.balance_due, share(second.balance_due, step.k, invoice.currency)
    return s.record_payment(
        first.deal_id,
        str(a + b),
        payment_id=f"P{step.n}",
        currency=invoice.currency,
        allocations=((first.invoice_id, str(a)), (second.invoice_id, str(b))),
    )


def _credit_lines(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    if invoice is None:
        return None
    line = invoice.lines[step.j % len(invoice.lines)]
    left = line.quantity - invoice.credited_of(line).quantity
    quantity = max(D(1), left - step.k % 2) if step.k % 5 else left + 1
    lines = ((line.line_no, str(quantity)),)
    return s.credit_invoice(invoice.deal_id, invoice.invoice_id, ref=f"C{step.n}", lines=lines)


def _credit_amount(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    if invoice is None:
        return None
    left = invoice.creditable
    amount = share(left, step.j, invoice.currency) if left > 0 else D(1)
    return s.credit_invoice(
        invoice.deal_id, invoice.invoice_id, ref=step.seen("C", 7), amount=str(amount)
    )


def _credit_all(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    if invoice is None:
        return None
    return s.credit_invoice(invoice.deal_id, invoice.invoice_id, ref=f"C{step.n}")


def _cancel_invoice(world: World, step: Step) -> Message:
    invoice = step.invoice(world)
    return None if invoice is None else s.cancel_invoice(invoice.deal_id, invoice.invoice_id)


def _refund(world: World, step: Step) -> Message:
    held = world.credits()
    if not held:
        return s.record_refund(ACCOUNTS[step.j % 2], "1", refund_id=f"R{step.n}")
    credit = held[step.j % len(held)]
    amount = share(credit.balance, step.k, credit.currency) if step.k % 4 else credit.balance + 1
    return s.record_refund(
        credit.account_id, str(amount), refund_id=step.seen("R", 6), currency=credit.currency
    )


def _apply(world: World, step: Step) -> Message:
    held, invoices = world.credits(), world.invoices()
    if not held or not invoices:
        return None
    credit = held[step.j % len(held)]
    key = (credit.account_id, credit.currency)
    mine = [x for x in invoices if (x.account_id, x.currency) == key and x.balance_due > 0]
    target = (mine or invoices)[step.k % len(mine or invoices)]
    most = min(credit.balance, target.balance_due)
    return s.apply_credit(
        credit.account_id,
        target.invoice_id,
        str(share(most, step.k, credit.currency) if most > 0 else credit.balance),
        application_id=step.seen("A", 6),
        currency=credit.currency,
    )


# What a step does, weighted: money moves more often than orders come or go.
STEPS: dict[str, tuple[int, Callable[[World, Step], Message]]] = {
    "ship": (3, _ship),
    "pay": (3, _pay),
    "pay_split": (1, _pay_split),
    "apply": (2, _apply),
    "credit_lines": (1, _credit_lines),
    "credit_amount": (1, _credit_amount),
    "credit_all": (1, _credit_all),
    "cancel_invoice": (1, _cancel_invoice),
    "cancel_order": (1, _cancel_order),
    "refund": (1, _refund),
    "confirm": (1, _confirm),
    "deliver": (1, _deliver),
}
KINDS = tuple(kind for kind, (weight, _) in STEPS.items() for _ in range(weight))
_step = st.tuples(
    st.sampled_from(KINDS),
    # Which order or invoice, how much, which variant: three numbers 0..999 drawn as one (a
    # third of the drawing time, and it shrinks to 0 all the same).
    st.integers(min_value=0, max_value=999_999_999),
)


def check(world: World) -> None:
    """Every invariant of the books, as they stand."""
    book = world.book
    entries: dict[tuple[UUID, str], list[domain.Entry]] = defaultdict(list)
    for entry in book.new_entries:
        assert entry.amount == money.round_money(entry.amount, entry.currency), entry
        entries[(entry.account_id, entry.currency)].append(entry)
    notes = list(book.notes.values())
    for key, of_account in entries.items():
        by_kind: dict[domain.EntryKind, Decimal] = defaultdict(Decimal)
        for entry in of_account:
            by_kind[entry.kind] += entry.amount
        invoiced = sum_of(
            i.totals.grand_total
            for i in book.invoices.values()
            if (i.account_id, i.currency) == key
        )
        credited = sum_of(n.totals.grand_total for n in notes if (n.account_id, n.currency) == key)
        paid = sum_of(
            p.amount
            for invoice_id, p in book.new_payments
            if (book.invoices[invoice_id].account_id, p.currency) == key
        )
        refunded = sum_of(r.amount for r in book.new_refunds if (r.account_id, r.currency) == key)
        assert by_kind[domain.EntryKind.INVOICE] == invoiced
        assert by_kind[domain.EntryKind.CREDIT_NOTE] == -credited
        assert by_kind[domain.EntryKind.PAYMENT] == -paid
        assert by_kind[domain.EntryKind.REFUND] == refunded
        assert sum_of(e.amount for e in of_account) == invoiced - credited - paid + refunded
        on_credit = -sum_of(e.amount for e in of_account if e.invoice_id is None)
        held = book.credits.get(key)
        assert on_credit == (held.balance if held else 0) >= 0, key
    per_invoice: dict[UUID | None, Decimal] = defaultdict(Decimal)
    for entry in book.new_entries:
        per_invoice[entry.invoice_id] += entry.amount
    for invoice in book.invoices.values():
        assert invoice.balance_due >= 0, invoice
        assert invoice.balance_due == per_invoice[invoice.invoice_id], invoice
        assert 0 <= invoice.amount_credited <= invoice.totals.grand_total
        for line in invoice.lines:
            assert 0 <= invoice.credited_of(line).quantity <= line.quantity
        assert all(net >= 0 and tax >= 0 for net, tax in invoice.creditable_rates().values())
    _numbers_have_no_gaps(world)
    for order in book.orders.values():
        _order_adds_up(world, order)


def _numbers_have_no_gaps(world: World) -> None:
    book = world.book
    invoices = sorted(i.invoice_number for i in book.invoices.values())
    notes = sorted(n.credit_note_number for n in book.notes.values())
    assert invoices == [f"INV-2026-{n:06d}" for n in range(1, book.counters[2026].last + 1)]
    assert notes == [f"CN-2026-{n:06d}" for n in range(1, book.credit_counters[2026].last + 1)]


def _order_adds_up(world: World, order: domain.Order) -> None:
    standard = [
        i
        for i in world.book.invoices_of_order(order.order_id)
        if i.kind is domain.InvoiceKind.STANDARD
    ]
    for line in order.lines:
        billed = order.billed_of(line)
        assert 0 <= billed.credited_quantity <= billed.quantity <= line.quantity, (line, billed)
        pieces = [x for i in standard for x in i.lines if x.line_no == line.line_no]
        assert sum_of(x.quantity for x in pieces) == billed.quantity
        summed = money.zero_amounts(order.currency)
        for piece in pieces:
            summed = money.add_amounts(summed, piece.amounts(order.currency))
        assert summed == billed.amounts
        if order.fully_billed:
            assert summed == line.amounts(order.currency)
    dp = order.down_payment
    if dp is not None:
        # What the order counts as left of its down payment is what its invoice can still be
        # credited: deducted, credited or cancelled, each once.
        left = world.book.invoices[dp.invoice_id].creditable_rates()
        assert dp.left() == {r: a for r, a in left.items() if a != (D(0), D(0))}
    if order.fully_billed:
        totals = [i.totals for i in standard]
        assert sum_of(t.grand_total for t in totals) == order.totals.grand_total
        assert sum_of(t.net_total for t in totals) == order.totals.net_total
        assert sum_of(t.tax_total for t in totals) == order.totals.tax_total
        assert dp is None or dp.left() == {}


@seed(20261127)
@settings(max_examples=100, deadline=None)
@given(
    orders=st.lists(_order, min_size=2, max_size=4),
    steps=st.lists(_step, min_size=10, max_size=30),
    accept_overpayments=st.booleans(),
)
def test_the_books_hold_after_every_step(
    orders: list[tuple[Any, ...]],
    steps: list[tuple[str, int]],
    accept_overpayments: bool,
) -> None:
    world = World(
        [confirmation(n, spec) for n, spec in enumerate(orders)],
        domain.InvoicingPolicy(accept_overpayments=accept_overpayments),
    )
    for confirmed, spec in zip(world.confirmations, orders, strict=True):
        if spec[-1]:
            world.send(confirmed)
    for n, (kind, drawn) in enumerate(steps, start=1):
        step = Step(n, drawn // 1_000_000, drawn // 1000 % 1000, drawn % 1000)
        envelope = STEPS[kind][1](world, step)
        if envelope is None:
            continue
        before = (len(world.book.new_entries), dict(world.book.credits))
        published = world.send(envelope)
        if published and set(published) == {"invoice.rejected"}:
            assert (len(world.book.new_entries), dict(world.book.credits)) == before
        check(world)
