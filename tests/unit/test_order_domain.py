"""The order's decisions, pure: placing from an accepted quote (prices checked to the cent),
fulfilment, cancellation, invoicing, payments seen, and every refusal. Billing quantities and
credit notes: test_order_billing.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.money import price_line, sum_totals
from services.order_svc import domain
from services.order_svc.domain import (
    AcceptedQuote,
    Billed,
    BillingPolicy,
    BillingTerms,
    Cancelled,
    Completeness,
    Confirmed,
    Contact,
    Customer,
    Fulfilled,
    Ignored,
    InvoiceKind,
    InvoiceMarkedPaid,
    InvoiceRef,
    Numbering,
    Order,
    OrderLine,
    OrderState,
    PostedInvoice,
    QuoteRef,
    Refusal,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
DEAL = "L-2026-000001"
QUOTE_ID = UUID("6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e")


def line(
    line_no: int,
    quantity: str,
    price: str,
    discount: str = "0",
    rate: str = "0.19",
    currency: str = "EUR",
) -> OrderLine:
    amounts = price_line(
        Decimal(quantity), Decimal(price), Decimal(discount), Decimal(rate), currency
    )
    return OrderLine(
        line_no=line_no,
        sku=f"SKU-{line_no}",
        description=f"product {line_no}",
        write_in=False,
        quantity=Decimal(quantity),
        unit="each",
        unit_price=Decimal(price),
        tax_rate=Decimal(rate),
        amounts=amounts,
    )


LINES = (line(1, "10", "19.99", "9.90"), line(2, "3", "333.335", rate="0.07"))


def quote(lines: tuple[OrderLine, ...] = LINES, currency: str = "EUR") -> AcceptedQuote:
    return AcceptedQuote(
        quote=QuoteRef(QUOTE_ID, "Q-2026-00017", 2),
        customer=Customer(
            opportunity_id=uuid4(),
            lead_id=DEAL,
            account_id=uuid4(),
            account_name="Analytical Engines Ltd",
            contact_id=uuid4(),
            contact=Contact("Ada", "Lovelace", "ada@example.com"),
        ),
        price_list_id="PL-EUR-2026",
        currency=currency,
        lines=lines,
        totals=sum_totals((x.amounts for x in lines), currency),
        payment_terms="net_30",
        customer_po="PO 4711",
        accepted_at=NOW,
    )


def placed(accepted: AcceptedQuote | None = None) -> Order:
    decision = domain.place_order(
        accepted or quote(), deal_id=DEAL, existing=None, number="SO-2026-00001", now=NOW
    )
    assert isinstance(decision, Confirmed)
    return decision.order


def ship(order: Order | None, ref: str, **lines: str) -> Fulfilled | Refusal:
    return domain.record_fulfilment(
        order,
        order_id=order.order_id if order else uuid4(),
        deal_id=DEAL,
        shipment_ref=ref,
        shipped=[(int(n.removeprefix("l")), Decimal(q)) for n, q in lines.items()],
        now=LATER,
    )


def shipped(order: Order, ref: str, **lines: str) -> Order:
    decision = ship(order, ref, **lines)
    assert isinstance(decision, Fulfilled), decision
    return decision.order


def invoiced(order: Order, number: str = "INV-1") -> Order:
    """`order` once an invoice billing all of it was posted (as native on-order billing does)."""
    invoice = PostedInvoice(
        uuid4(), number, InvoiceKind.STANDARD, tuple((x.line_no, x.quantity) for x in order.lines)
    )
    decision = domain.record_invoice(
        order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=LATER
    )
    assert isinstance(decision, Billed)
    return decision.order


def paid(order: Order, invoice: InvoiceRef | None = None) -> Order:
    """`order` once a payment was seen for `invoice` (default: its latest)."""
    target = invoice or order.invoice
    assert target is not None
    decision = domain.mark_invoice_paid(
        [order], deal_id=DEAL, invoice_id=target.invoice_id, now=LATER
    )
    assert isinstance(decision, InvoiceMarkedPaid), decision
    return decision.order


def refusal(decision: object) -> tuple[str, str]:
    assert isinstance(decision, Refusal), decision
    return decision.command, decision.reason_code


# --- placing the order ----------------------------------------------------------------------


def test_an_accepted_quote_becomes_a_submitted_order_with_the_quotes_prices() -> None:
    accepted = quote()
    order = placed(accepted)
    assert order.state is OrderState.SUBMITTED
    assert order.order_id == domain.order_id_for(QUOTE_ID)
    assert order.order_number == "SO-2026-00001"
    assert order.deal_id == DEAL
    assert order.lines == accepted.lines
    assert order.totals == accepted.totals
    assert order.totals.grand_total == Decimal("1296.11")  # 226.10 + 1070.01
    assert order.confirmed_at == order.updated_at == NOW
    assert order.completeness is None
    assert (order.customer_po, order.payment_terms) == ("PO 4711", "net_30")
    assert order.billing == BillingTerms()
    assert order.billing_status is domain.BillingStatus.NOT_INVOICED


def test_the_billing_terms_of_the_acceptance_are_kept_on_the_order_as_given() -> None:
    terms = BillingTerms(BillingPolicy.DOWN_PAYMENT, Decimal("0.3"))
    assert placed(replace(quote(), billing=terms)).billing == terms
    # A rate without the down payment policy is passed on, not judged: invoice_svc ignores it.
    odd = BillingTerms(BillingPolicy.ON_ORDER, Decimal("0.3"))
    assert placed(replace(quote(), billing=odd)).billing == odd


def test_the_order_id_is_derived_from_the_quote_id() -> None:
    assert domain.order_id_for(QUOTE_ID) == domain.order_id_for(QUOTE_ID)
    assert domain.order_id_for(QUOTE_ID) != domain.order_id_for(uuid4())


def test_order_numbers_are_the_year_and_a_five_digit_sequence() -> None:
    assert Numbering().number(2026, 42) == "SO-2026-00042"
    assert Numbering("ORD").number(2027, 1) == "ORD-2027-00001"


def test_a_second_order_for_the_same_quote_is_refused() -> None:
    first = placed()
    decision = domain.place_order(
        quote(), deal_id=DEAL, existing=first, number="SO-2026-00002", now=LATER
    )
    assert refusal(decision) == ("quote.accepted", "order_exists")
    assert isinstance(decision, Refusal)
    assert decision.subject_id == str(QUOTE_ID)
    assert "SO-2026-00001" in decision.detail


def test_a_quote_on_another_deal_than_its_lead_is_refused() -> None:
    decision = domain.place_order(
        quote(), deal_id="someone-else", existing=None, number="SO-2026-00001", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "deal_mismatch")


def test_tampered_totals_are_refused_naming_the_difference() -> None:
    accepted = quote()
    tampered = replace(accepted, totals=replace(accepted.totals, grand_total=Decimal("1296.12")))
    decision = domain.place_order(
        tampered, deal_id=DEAL, existing=None, number="SO-2026-00001", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "totals_mismatch")
    assert isinstance(decision, Refusal)
    assert decision.detail == "grand_total: quote 1296.12, recomputed 1296.11"


def test_a_tampered_line_amount_is_refused_even_when_the_totals_agree_with_it() -> None:
    bad = LINES[0]
    lines = (replace(bad, amounts=replace(bad.amounts, tax=Decimal("36.11"))), LINES[1])
    accepted = replace(
        quote(lines), totals=sum_totals((x.amounts for x in lines), "EUR")
    )  # totals consistent with the forged line
    decision = domain.place_order(
        accepted, deal_id=DEAL, existing=None, number="SO-2026-00001", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "totals_mismatch")
    assert isinstance(decision, Refusal)
    assert "line 1 tax_amount: quote 36.11, recomputed 36.10" in decision.detail
    assert "tax_total: quote" in decision.detail


def test_a_line_that_cannot_be_priced_is_refused() -> None:
    bad = LINES[0]
    lines = (replace(bad, amounts=replace(bad.amounts, discount=Decimal("500"))),)
    decision = domain.place_order(
        quote(lines), deal_id=DEAL, existing=None, number="SO-2026-00001", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "invalid_line")


def test_repeated_line_numbers_are_refused() -> None:
    lines = (LINES[0], replace(LINES[1], line_no=1))
    decision = domain.place_order(
        quote(lines), deal_id=DEAL, existing=None, number="SO-2026-00001", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "invalid_line")


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=500),
            st.decimals(min_value=0, max_value=5000, places=3),
            st.sampled_from(["0", "0.07", "0.19", "0.2"]),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["EUR", "JPY", "KWD"]),
    st.integers(min_value=0, max_value=10),
)
def test_totals_pass_exactly_when_they_match_to_the_minor_unit(
    raw: list[tuple[int, Decimal, str]], currency: str, forged: int
) -> None:
    lines = tuple(
        line(n, str(qty), str(price), rate=rate, currency=currency)
        for n, (qty, price, rate) in enumerate(raw, start=1)
    )
    accepted = quote(lines, currency)
    order = placed(accepted)
    assert order.totals == sum_totals((x.amounts for x in order.lines), currency)
    assert order.totals.grand_total == sum(x.amounts.total for x in lines)
    minor = Decimal(1).scaleb(-{"EUR": 2, "JPY": 0, "KWD": 3}[currency])
    field = ["subtotal", "net_total", "tax_total", "grand_total", "discount_total"][forged % 5]
    off = replace(accepted.totals, **{field: getattr(accepted.totals, field) + minor})
    decision = domain.place_order(
        replace(accepted, totals=off), deal_id=DEAL, existing=None, number="N-1", now=NOW
    )
    assert refusal(decision) == ("quote.accepted", "totals_mismatch")


# --- cancellation ---------------------------------------------------------------------------


def test_a_fresh_order_is_canceled() -> None:
    order = placed()
    decision = domain.cancel(
        order, order_id=order.order_id, deal_id=DEAL, reason="customer withdrew", now=LATER
    )
    assert isinstance(decision, Cancelled)
    assert decision.order.state is OrderState.CANCELED
    assert decision.order.cancel_reason == "customer withdrew"
    assert decision.order.updated_at == LATER
    assert decision.order.completeness is None


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (lambda o: None, "unknown_order"),
        (lambda o: replace(o, deal_id="other"), "deal_mismatch"),
        (lambda o: replace(o, state=OrderState.CANCELED), "already_cancelled"),
        (lambda o: shipped(o, "S1", l1="10", l2="3"), "already_fulfilled"),
        (lambda o: shipped(shipped(o, "S1", l1="10"), "S2", l2="3"), "already_fulfilled"),
        (lambda o: invoiced(shipped(o, "S1", l1="10", l2="3")), "already_fulfilled"),
        (lambda o: shipped(paid(invoiced(o)), "S1", l1="10", l2="3"), "already_fulfilled"),
    ],
)
def test_cancel_refusals(prepare: object, reason: str) -> None:
    order = placed()
    target = prepare(order)  # type: ignore[operator]
    decision = domain.cancel(target, order_id=order.order_id, deal_id=DEAL, reason="", now=LATER)
    assert refusal(decision) == ("order.cancel", reason)
    assert isinstance(decision, Refusal)
    assert decision.subject_id == str(order.order_id)


def test_a_fully_shipped_order_is_refused_naming_its_shipments() -> None:
    order = shipped(shipped(placed(), "S1", l1="10"), "S2", l2="3")
    decision = domain.cancel(order, order_id=order.order_id, deal_id=DEAL, reason="", now=LATER)
    assert isinstance(decision, Refusal)
    assert "['S1', 'S2']" in decision.detail


@pytest.mark.parametrize(
    "prepare",
    [
        lambda o: shipped(o, "S1", l1="4"),
        lambda o: shipped(o, "S1", l1="10"),  # line 1 in full, line 2 not at all
        lambda o: invoiced(shipped(o, "S1", l1="4")),
        lambda o: shipped(invoiced(o), "S1", l1="4"),
        lambda o: paid(invoiced(shipped(o, "S1", l1="4"))),
    ],
)
def test_a_partly_shipped_order_cancels_its_remainder_and_closes(prepare: object) -> None:
    before = prepare(placed())  # type: ignore[operator]
    decision = domain.cancel(
        before, order_id=before.order_id, deal_id=DEAL, reason="rest not needed", now=LATER
    )
    assert isinstance(decision, Cancelled)
    order = decision.order
    assert order.state is OrderState.CANCELED
    assert order.cancel_reason == decision.reason == "rest not needed"
    # What shipped stays recorded: the remainder is what was ordered and did not ship.
    assert order.shipped == before.shipped
    assert order.completeness is Completeness.PARTIAL
    assert order.invoices == before.invoices
    # Closed: nothing more ships, and a second cancel finds it canceled.
    assert refusal(ship(order, "S9", l2="1")) == ("order.record_fulfilment", "order_cancelled")
    again = domain.cancel(order, order_id=order.order_id, deal_id=DEAL, reason="", now=LATER)
    assert refusal(again) == ("order.cancel", "already_cancelled")


@pytest.mark.parametrize(
    "prepare",
    [
        invoiced,
        lambda o: invoiced(invoiced(o, "INV-1"), "INV-2"),
        lambda o: paid(invoiced(o)),
        lambda o: invoiced(paid(invoiced(o, "INV-1")), "INV-2"),
    ],
)
def test_billing_never_holds_a_cancellation_back_paid_or_not(prepare: object) -> None:
    # invoice_svc credits what was invoiced and will not ship, and turns money received into a
    # refund due, whichever of the cancellation and the payment it hears of first.
    order = prepare(placed())  # type: ignore[operator]
    assert order.state is OrderState.INVOICED
    decision = domain.cancel(
        order, order_id=order.order_id, deal_id=DEAL, reason="customer withdrew", now=LATER
    )
    assert isinstance(decision, Cancelled)
    assert decision.order.state is OrderState.CANCELED
    assert decision.order.invoices == order.invoices
    assert decision.order.billing_status is domain.BillingStatus.FULLY_INVOICED


# --- fulfilment -----------------------------------------------------------------------------


def test_shipments_add_up_per_line_partial_then_complete() -> None:
    order = placed()
    first = ship(order, "S1", l1="4")
    assert isinstance(first, Fulfilled)
    assert first.completeness is Completeness.PARTIAL
    assert first.order.state is OrderState.FULFILLED
    assert first.order.shipped == {1: Decimal(4)}
    second = ship(first.order, "S2", l1="6", l2="3")
    assert isinstance(second, Fulfilled)
    assert second.completeness is Completeness.COMPLETE
    assert second.order.shipped == {1: Decimal(10), 2: Decimal(3)}
    assert second.order.shipment_refs == {"S1", "S2"}
    assert second.shipment_ref == "S2"


def test_one_shipment_may_name_a_line_twice() -> None:
    decision = domain.record_fulfilment(
        placed(),
        order_id=domain.order_id_for(QUOTE_ID),
        deal_id=DEAL,
        shipment_ref="S1",
        shipped=[(1, Decimal(4)), (1, Decimal(6))],
        now=LATER,
    )
    assert isinstance(decision, Fulfilled)
    assert decision.order.shipped == {1: Decimal(10)}


def test_the_same_shipment_twice_is_a_duplicate_even_if_it_would_over_ship() -> None:
    order = shipped(placed(), "S1", l1="6")
    assert refusal(ship(order, "S1", l1="6")) == ("order.record_fulfilment", "duplicate_shipment")
    assert refusal(ship(order, "S1", l1="1")) == ("order.record_fulfilment", "duplicate_shipment")


def test_shipping_more_than_ordered_in_total_is_refused() -> None:
    order = shipped(placed(), "S1", l1="6")
    decision = ship(order, "S2", l1="5")
    assert refusal(decision) == ("order.record_fulfilment", "over_shipment")
    assert isinstance(decision, Refusal)
    assert "line 1: 11 of 10" in decision.detail
    assert isinstance(ship(order, "S2", l1="4"), Fulfilled)


@pytest.mark.parametrize(
    ("order_of", "lines", "reason"),
    [
        (lambda o: None, {"l1": "1"}, "unknown_order"),
        (lambda o: replace(o, deal_id="other"), {"l1": "1"}, "deal_mismatch"),
        (lambda o: replace(o, state=OrderState.CANCELED), {"l1": "1"}, "order_cancelled"),
        (lambda o: o, {"l3": "1"}, "unknown_line"),
        (lambda o: o, {"l1": "0"}, "invalid_quantity"),
        (lambda o: o, {}, "invalid_quantity"),
        (lambda o: o, {"l2": "3.5"}, "over_shipment"),
    ],
)
def test_fulfilment_refusals(order_of: object, lines: dict[str, str], reason: str) -> None:
    order = order_of(placed())  # type: ignore[operator]
    assert refusal(ship(order, "S9", **lines)) == ("order.record_fulfilment", reason)


def test_an_invoiced_order_still_takes_shipments_and_stays_invoiced() -> None:
    order = invoiced(placed())
    decision = ship(order, "S1", l1="10", l2="3")
    assert isinstance(decision, Fulfilled)
    assert decision.completeness is Completeness.COMPLETE
    assert decision.order.state is OrderState.INVOICED


# --- invoicing (quantities and credit notes: test_order_billing.py) -------------------------


def test_an_invoice_of_the_whole_order_marks_it_invoiced_and_keeps_fulfilment() -> None:
    order = shipped(placed(), "S1", l1="10", l2="3")
    assert order.completeness is Completeness.COMPLETE
    done = invoiced(order, "INV-7")
    assert done.state is OrderState.INVOICED
    assert done.completeness is Completeness.COMPLETE
    assert done.shipment_refs == {"S1"}
    assert done.invoice is not None
    assert done.invoice.invoice_number == "INV-7"


def test_a_canceled_order_stays_canceled_but_records_the_invoice() -> None:
    order = replace(placed(), state=OrderState.CANCELED)
    done = invoiced(order, "INV-8")
    assert done.state is OrderState.CANCELED
    assert [i.invoice_number for i in done.invoices] == ["INV-8"]
    assert done.billing_status is domain.BillingStatus.FULLY_INVOICED


def test_an_invoice_for_an_unknown_order_is_ignored() -> None:
    invoice = PostedInvoice(uuid4(), "INV-1", InvoiceKind.STANDARD, ((1, Decimal(1)),))
    decision = domain.record_invoice(None, order_id=uuid4(), deal_id=DEAL, invoice=invoice, now=NOW)
    assert isinstance(decision, Ignored)
    assert decision.reason == "unknown_order"


def test_the_same_invoice_twice_or_from_another_deal_changes_nothing() -> None:
    order = placed()
    invoice = PostedInvoice(uuid4(), "INV-1", InvoiceKind.STANDARD, ((1, Decimal(4)),))
    first = domain.record_invoice(
        order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=NOW
    )
    assert isinstance(first, Billed)
    again = domain.record_invoice(
        first.order, order_id=order.order_id, deal_id=DEAL, invoice=invoice, now=LATER
    )
    assert isinstance(again, Ignored)
    assert again.reason == "invoice_known"
    other = domain.record_invoice(
        order, order_id=order.order_id, deal_id="other", invoice=invoice, now=LATER
    )
    assert isinstance(other, Ignored)
    assert other.reason == "deal_mismatch"


def test_a_second_invoice_is_added_and_becomes_the_current_one() -> None:
    order = invoiced(invoiced(placed(), "INV-1"), "INV-2")
    assert [i.invoice_number for i in order.invoices] == ["INV-1", "INV-2"]
    assert order.invoice is not None
    assert order.invoice.invoice_number == "INV-2"


# --- payments seen --------------------------------------------------------------------------


def test_a_payment_marks_the_right_invoice_of_the_right_order_of_the_deal() -> None:
    one = invoiced(invoiced(placed(), "INV-1"), "INV-2")
    other_quote = replace(quote(), quote=QuoteRef(uuid4(), "Q-2026-00018", 1))
    two = invoiced(placed(other_quote), "INV-3")
    target = two.invoices[0]
    decision = domain.mark_invoice_paid(
        [one, two], deal_id=DEAL, invoice_id=target.invoice_id, now=LATER
    )
    assert isinstance(decision, InvoiceMarkedPaid)
    assert decision.order.order_id == two.order_id
    assert decision.invoice == replace(target, paid=True)
    assert decision.order.invoices == (replace(target, paid=True),)
    assert decision.order.state is OrderState.INVOICED
    assert decision.order.updated_at == LATER
    # The other order, and the other invoices, are untouched.
    marked = paid(one, one.invoices[1])
    assert [(i.invoice_number, i.paid) for i in marked.invoices] == [
        ("INV-1", False),
        ("INV-2", True),
    ]


def test_a_new_invoice_is_unpaid() -> None:
    order = invoiced(placed())
    assert order.invoice is not None
    assert not order.invoice.paid


def test_a_payment_for_a_canceled_order_is_recorded_and_the_order_stays_canceled() -> None:
    # Paid after the cancellation: invoice_svc makes the money a refund due; the trail is kept.
    order = invoiced(placed())
    decision = domain.cancel(order, order_id=order.order_id, deal_id=DEAL, reason="", now=NOW)
    assert isinstance(decision, Cancelled)
    done = paid(decision.order)
    assert done.state is OrderState.CANCELED
    assert [i.paid for i in done.invoices] == [True]


@pytest.mark.parametrize(
    ("orders_of", "deal", "reason"),
    [
        (lambda o: [], DEAL, "unknown_order"),
        (lambda o: [o], "another-deal", "unknown_order"),
        (lambda o: [replace(o, deal_id="another-deal")], DEAL, "unknown_order"),
        (lambda o: [placed()], DEAL, "unknown_invoice"),
        (lambda o: [invoiced(placed(), "INV-OTHER")], DEAL, "unknown_invoice"),
        (lambda o: [paid(o)], DEAL, "paid_known"),
    ],
)
def test_a_payment_that_concerns_no_order_or_changes_nothing_is_ignored(
    orders_of: object, deal: str, reason: str
) -> None:
    order = invoiced(placed(), "INV-1")
    assert order.invoice is not None
    decision = domain.mark_invoice_paid(
        orders_of(order),  # type: ignore[operator]
        deal_id=deal,
        invoice_id=order.invoice.invoice_id,
        now=LATER,
    )
    assert isinstance(decision, Ignored), decision
    assert decision.reason == reason
