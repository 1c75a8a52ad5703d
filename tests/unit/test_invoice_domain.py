"""The invoice's decisions, pure: native posting, ERP invoices, payments, cancellations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import money
from services.invoice_svc import domain
from services.invoice_svc.domain import (
    Cancelled,
    ExternalClaim,
    Held,
    Invoice,
    InvoiceCounter,
    InvoiceSource,
    InvoiceState,
    InvoicingMode,
    Line,
    Order,
    OrderCancellation,
    Paid,
    Payment,
    PaymentStatus,
    Posted,
    Refusal,
    Unchanged,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DEAL = "L-1"
COMMAND = UUID("00000000-0000-4000-8000-000000000001")
COUNTER = InvoiceCounter(2026, 41)


def line(no: int, qty: str, price: str, discount: str, rate: str, currency: str = "EUR") -> Line:
    a = money.price_line(Decimal(qty), Decimal(price), Decimal(discount), Decimal(rate), currency)
    return Line(
        line_no=no,
        sku=f"SKU-{no}",
        description=f"item {no}",
        write_in=False,
        quantity=Decimal(qty),
        unit="each",
        unit_price=Decimal(price),
        discount_amount=a.discount,
        tax_rate=Decimal(rate),
        base_amount=a.base,
        net_amount=a.net,
        tax_amount=a.tax,
        total_amount=a.total,
    )


def make_order(lines: tuple[Line, ...] | None = None, **changes: object) -> Order:
    lines = lines or (line(1, "10", "19.99", "9.90", "0.19"), line(2, "3", "33.333", "0", "0.07"))
    order = Order(
        order_id=UUID("3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d"),
        order_number="SO-1",
        quote_id=uuid4(),
        deal_id=DEAL,
        account_id=uuid4(),
        account_name="Analytical Engines Ltd",
        currency="EUR",
        lines=lines,
        totals=money.sum_totals((ln.amounts("EUR") for ln in lines), "EUR"),
        payment_terms="net_30",
        confirmed_at=NOW,
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def post(order: Order | None = None, **kw: object) -> domain.Posted | Unchanged | Refusal:
    args: dict[str, object] = {"existing": None, "counter": COUNTER, "prefix": "INV", "now": NOW}
    args.update(kw)
    return domain.invoice_natively(order or make_order(), **args)  # type: ignore[arg-type]


def posted_invoice(order: Order | None = None) -> Invoice:
    decision = post(order)
    assert isinstance(decision, Posted)
    return decision.invoice


def claim(**changes: object) -> ExternalClaim:
    order = make_order()
    base = ExternalClaim(
        external_invoice_id="ERP-9",
        invoice_number="ERP-INV-9",
        order_id=order.order_id,
        deal_id=DEAL,
        currency="EUR",
        totals=order.totals,
        issue_date=date(2026, 11, 30),
        due_date=date(2026, 12, 30),
        command_event_id=COMMAND,
        received_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def register(c: ExternalClaim | None = None, /, **kw: object) -> object:
    args: dict[str, object] = {
        "mode": InvoicingMode.EXTERNAL,
        "order": make_order(),
        "registered": None,
        "held": None,
        "order_invoice": None,
        "numbered": None,
        "now": NOW,
    }
    args.update(kw)
    return domain.register_external(c or claim(), **args)  # type: ignore[arg-type]


def payment(amount: str, payment_id: str = "PAY-1", currency: str = "EUR") -> Payment:
    return Payment(payment_id, Decimal(amount), currency, NOW, "sepa", NOW + timedelta(hours=1))


def pay(
    invoice: Invoice | None, amount: str, payment_id: str = "PAY-1", /, **kw: object
) -> Paid | Unchanged | Refusal:
    args: dict[str, object] = {
        "payment": payment(amount, payment_id),
        "already_recorded": False,
        "invoice_ref": "INV-ref",
        "deal_id": DEAL,
    }
    args.update(kw)
    return domain.record_payment(invoice, **args)  # type: ignore[arg-type]


# --- native posting -----------------------------------------------------------------------


def test_a_confirmed_order_gets_one_native_invoice_numbered_from_the_counter() -> None:
    order = make_order()
    decision = post(order)
    assert isinstance(decision, Posted)
    invoice = decision.invoice
    assert decision.counter == InvoiceCounter(2026, 42)
    assert invoice.invoice_number == "INV-2026-000042"
    assert invoice.invoice_id == domain.invoice_id_for(order.order_id)
    assert invoice.source is InvoiceSource.NATIVE
    assert invoice.state is InvoiceState.ACTIVE
    assert invoice.lines == order.lines
    assert invoice.totals == order.totals
    assert invoice.totals.grand_total == Decimal("333.10")
    assert (invoice.amount_paid, invoice.balance_due) == (Decimal(0), Decimal("333.10"))
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 11, 27), date(2026, 12, 27))


def test_the_same_order_mints_the_same_invoice_id_on_replay() -> None:
    assert posted_invoice().invoice_id == posted_invoice().invoice_id


@pytest.mark.parametrize(
    ("terms", "due"),
    [
        ("due_on_receipt", date(2026, 11, 27)),
        ("net_15", date(2026, 12, 12)),
        ("net_30", date(2026, 12, 27)),
        ("net_45", date(2027, 1, 11)),
        ("net_60", date(2027, 1, 26)),
    ],
)
def test_the_due_date_follows_the_payment_terms(terms: str, due: date) -> None:
    assert posted_invoice(make_order(payment_terms=terms)).due_date == due


def test_a_second_confirmation_of_an_invoiced_order_changes_nothing() -> None:
    existing = posted_invoice()
    assert isinstance(post(existing=existing), Unchanged)


def test_a_cancelled_order_is_not_invoiced() -> None:
    assert isinstance(post(make_order(cancelled=True)), Unchanged)


def test_order_totals_that_are_not_the_sum_of_the_lines_are_refused_with_the_difference() -> None:
    order = make_order()
    wrong = replace(order.totals, grand_total=order.totals.grand_total + Decimal("0.01"))
    decision = post(replace(order, totals=wrong))
    assert isinstance(decision, Refusal)
    assert (decision.command, decision.reason_code) == ("order.confirmed", "totals_mismatch")
    assert "grand_total 333.11 vs 333.10 (difference 0.01)" in decision.detail
    assert decision.subject_id == str(order.order_id)


def test_a_line_whose_amounts_do_not_reprice_is_refused() -> None:
    order = make_order()
    bad = replace(order.lines[0], tax_amount=Decimal("36.11"), total_amount=Decimal("226.11"))
    decision = post(replace(order, lines=(bad, order.lines[1])))
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "totals_mismatch"
    assert "line 1" in decision.detail


def test_the_number_is_prefix_year_and_six_digits() -> None:
    assert domain.invoice_number("ACME", InvoiceCounter(2027, 7)) == "ACME-2027-000007"


def test_the_first_confirmation_wins() -> None:
    first = make_order(cancelled=True, cancel_reason="x")
    assert domain.remember_order(first, make_order()) is first
    fresh = make_order()
    assert domain.remember_order(None, fresh) is fresh


# --- external invoices ---------------------------------------------------------------------


def test_an_erp_invoice_that_matches_its_order_is_posted_with_the_erp_fields() -> None:
    order = make_order()
    decision = register(order=order)
    assert isinstance(decision, Posted)
    invoice = decision.invoice
    assert decision.counter is None and decision.claim == claim()
    assert invoice.source is InvoiceSource.EXTERNAL
    assert (invoice.external_invoice_id, invoice.invoice_number) == ("ERP-9", "ERP-INV-9")
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 11, 30), date(2026, 12, 30))
    assert invoice.lines == order.lines
    assert invoice.balance_due == order.totals.grand_total


def test_in_native_mode_an_erp_invoice_is_refused_wrong_mode() -> None:
    decision = register(mode=InvoicingMode.NATIVE)
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "wrong_mode"


def test_the_same_erp_invoice_again_is_a_silent_no_op() -> None:
    posted = register()
    assert isinstance(posted, Posted)
    assert isinstance(register(registered=posted.invoice), Unchanged)
    assert isinstance(register(order=None, held=claim()), Unchanged)


def test_an_erp_invoice_ahead_of_its_order_is_held() -> None:
    assert register(order=None) == Held(claim())


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"order": make_order(cancelled=True)}, "order_cancelled"),
        ({"order": make_order(deal_id="L-other")}, "deal_mismatch"),
        ({"order": make_order(currency="USD")}, "currency_mismatch"),
    ],
)
def test_an_erp_invoice_that_does_not_fit_its_order_is_refused(
    kw: dict[str, object], code: str
) -> None:
    decision = register(**kw)
    assert isinstance(decision, Refusal)
    assert (decision.command, decision.reason_code) == ("invoice.register_external", code)
    assert decision.subject_id == "ERP-9"
    assert decision.command_event_id == COMMAND


def test_erp_totals_off_by_a_cent_are_refused_with_the_difference() -> None:
    order = make_order()
    off = replace(order.totals, tax_total=Decimal("43.09"), grand_total=Decimal("333.09"))
    decision = register(claim(totals=off), order=order)
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "totals_mismatch"
    assert "tax_total 43.09 vs 43.10 (difference -0.01)" in decision.detail
    assert "grand_total 333.09 vs 333.10 (difference -0.01)" in decision.detail


def test_an_order_invoiced_by_another_erp_invoice_refuses_a_second_one() -> None:
    first = register()
    assert isinstance(first, Posted)
    decision = register(claim(external_invoice_id="ERP-10"), order_invoice=first.invoice)
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "order_already_invoiced"


def test_an_erp_invoice_number_already_taken_is_refused() -> None:
    decision = register(numbered=posted_invoice())
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "duplicate_invoice_number"


# --- payments ------------------------------------------------------------------------------


def test_a_partial_then_a_final_payment_runs_the_balance_to_zero() -> None:
    invoice = posted_invoice()
    first = pay(invoice, "100.10")
    assert isinstance(first, Paid)
    assert first.invoice.state is InvoiceState.PAID
    assert first.invoice.payment_status is PaymentStatus.PARTIAL
    assert (first.invoice.amount_paid, first.invoice.balance_due) == (
        Decimal("100.10"),
        Decimal("233.00"),
    )
    second = pay(first.invoice, "233.00", "PAY-2")
    assert isinstance(second, Paid)
    assert second.invoice.payment_status is PaymentStatus.COMPLETE
    assert (second.invoice.amount_paid, second.invoice.balance_due) == (
        Decimal("333.10"),
        Decimal("0.00"),
    )
    assert second.payment.payment_id == "PAY-2"


def test_a_payment_recorded_before_has_no_effect_whatever_the_state_now() -> None:
    settled = pay(posted_invoice(), "333.10")
    assert isinstance(settled, Paid)
    assert isinstance(pay(settled.invoice, "333.10", already_recorded=True), Unchanged)
    assert isinstance(pay(None, "1", already_recorded=True), Unchanged)


def test_more_than_the_balance_is_an_overpayment() -> None:
    decision = pay(posted_invoice(), "333.11")
    assert isinstance(decision, Refusal)
    assert decision.reason_code == "overpayment"
    assert "333.10" in decision.detail


@pytest.mark.parametrize(
    ("invoice", "kw", "code"),
    [
        (None, {}, "unknown_invoice"),
        ("active", {"deal_id": "L-other"}, "deal_mismatch"),
        ("canceled", {}, "invoice_cancelled"),
        ("active", {"payment": payment("10", currency="USD")}, "currency_mismatch"),
        ("active", {"payment": payment("10.005")}, "invalid_amount"),
    ],
)
def test_payments_that_do_not_fit_are_refused(
    invoice: str | None, kw: dict[str, object], code: str
) -> None:
    target = None
    if invoice is not None:
        target = replace(posted_invoice(), state=InvoiceState(invoice))
    decision = pay(target, "10", **kw)
    assert isinstance(decision, Refusal)
    assert (decision.command, decision.reason_code) == ("invoice.record_payment", code)


# --- cancellation --------------------------------------------------------------------------


def cancel(invoice: Invoice | None, deal_id: str = DEAL) -> Cancelled | Refusal:
    return domain.cancel_invoice(
        invoice, invoice_ref="ref", deal_id=deal_id, reason="issued in error", now=NOW
    )


def test_an_unpaid_invoice_is_cancelled() -> None:
    decision = cancel(posted_invoice())
    assert isinstance(decision, Cancelled)
    assert decision.invoice.state is InvoiceState.CANCELED
    assert decision.invoice.cancel_reason == decision.reason == "issued in error"


def test_cancelling_refusals() -> None:
    invoice = posted_invoice()
    paid = pay(invoice, "0.01")
    assert isinstance(paid, Paid)
    cancelled = cancel(invoice)
    assert isinstance(cancelled, Cancelled)
    codes = [
        cancel(None),
        cancel(invoice, deal_id="L-other"),
        cancel(cancelled.invoice),
        cancel(paid.invoice),
    ]
    assert [r.reason_code for r in codes if isinstance(r, Refusal)] == [
        "unknown_invoice",
        "deal_mismatch",
        "already_cancelled",
        "has_payments",
    ]


def test_a_cancelled_order_voids_its_unpaid_invoice() -> None:
    decision = domain.cancel_order(make_order(), posted_invoice(), reason="withdrew", now=NOW)
    assert isinstance(decision, OrderCancellation)
    assert decision.order.cancelled and decision.order.cancel_reason == "withdrew"
    assert decision.cancelled is not None
    assert decision.cancelled.reason == "order cancelled: withdrew"
    assert decision.cancelled.invoice.state is InvoiceState.CANCELED
    assert decision.kept_paid is None


def test_a_cancelled_order_keeps_its_paid_invoice() -> None:
    paid = pay(posted_invoice(), "10")
    assert isinstance(paid, Paid)
    decision = domain.cancel_order(make_order(), paid.invoice, reason="withdrew", now=NOW)
    assert isinstance(decision, OrderCancellation)
    assert decision.order.cancelled
    assert (decision.cancelled, decision.kept_paid) == (None, paid.invoice)


def test_order_cancellation_without_invoice_or_twice() -> None:
    decision = domain.cancel_order(make_order(), None, reason="r", now=NOW)
    assert isinstance(decision, OrderCancellation) and decision.cancelled is None
    assert isinstance(
        domain.cancel_order(make_order(cancelled=True), None, reason="r", now=NOW), Unchanged
    )
    assert isinstance(domain.cancel_order(None, None, reason="r", now=NOW), Unchanged)


# --- properties ----------------------------------------------------------------------------

_cents = st.integers(min_value=1, max_value=10_000_00)
_line_spec = st.tuples(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=99_999_999),
    st.sampled_from(["0", "0.07", "0.19", "0.2"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_line_spec, min_size=1, max_size=6))
def test_a_native_invoice_equals_its_order_to_the_cent(
    specs: list[tuple[int, int, str]],
) -> None:
    lines = tuple(
        line(i, str(qty), str(Decimal(price).scaleb(-4)), "0", rate)
        for i, (qty, price, rate) in enumerate(specs, start=1)
    )
    order = make_order(lines)
    invoice = posted_invoice(order)
    assert invoice.totals == order.totals
    recomputed = money.sum_totals((ln.amounts("EUR") for ln in invoice.lines), "EUR")
    assert recomputed == invoice.totals


@settings(max_examples=200, deadline=None)
@given(st.lists(_cents, min_size=1, max_size=8))
def test_payments_that_add_up_to_the_total_complete_the_invoice(parts: list[int]) -> None:
    total = Decimal(sum(parts)).scaleb(-2)
    lines = (line(1, "1", str(total), "0", "0"),)
    invoice = posted_invoice(make_order(lines))
    for n, cents in enumerate(parts):
        decision = pay(invoice, str(Decimal(cents).scaleb(-2)), f"P{n}")
        assert isinstance(decision, Paid)
        invoice = decision.invoice
        assert invoice.amount_paid + invoice.balance_due == total
    assert invoice.balance_due == 0
    assert invoice.payment_status is PaymentStatus.COMPLETE
