"""Money in and out: payments on one invoice or spread over several of one account, money
beyond what is owed held as customer credit (a refund due), refunds, and customer credit applied
to another invoice of the account."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts.invoices import InvoicePosted
from services.invoice_svc import domain
from tests.support import invoices as s
from tests.support.invoice_driver import Desk, for_account, on, only, refused, topics

D = Decimal
ACCOUNT = UUID("8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f")


def invoiced(desk: Desk, deal: str = "D1", account: UUID = ACCOUNT) -> InvoicePosted:
    """An invoice of 333.10 on a new order of `account`."""
    posted: InvoicePosted = on(
        desk.send(for_account(s.order_confirmed(deal), account)), "invoice.posted"
    )[0]
    return posted


def with_credit(desk: Desk, amount: str = "333.10") -> None:
    """`amount` of customer credit for ACCOUNT: paid for an order that was then cancelled."""
    posted = invoiced(desk, "D0")
    desk.send(s.record_payment("D0", "333.10", invoice_id=posted.invoice_id))
    desk.send(s.order_cancelled("D0", posted.order_id))
    if amount != "333.10":
        desk.send(s.record_refund(ACCOUNT, str(D("333.10") - D(amount))))
    assert desk.credit(ACCOUNT) == D(amount)


# --- payments ------------------------------------------------------------------------------


def test_a_partial_then_a_final_payment_run_the_balance_to_zero() -> None:
    desk = Desk()
    posted = invoiced(desk)
    first = s.record_payment("D1", "100.10", invoice_id=posted.invoice_id)
    paid = only(desk.send(first), "invoice.paid")
    assert (paid.amount_paid_total, paid.balance_due, paid.status.value) == (
        D("100.10"),
        D("233.00"),
        "partial",
    )
    invoice = desk.invoice(posted.invoice_id)
    assert (invoice.state, invoice.payment_status) == (
        domain.InvoiceState.PAID,
        domain.PaymentStatus.PARTIAL,
    )
    # The paying system retries under a new event id: no effect, no event.
    assert desk.send(first.model_copy(update={"event_id": uuid4()})) == []
    over = s.record_payment("D1", "233.01", invoice_id=posted.invoice_id)
    rejected = only(desk.send(over), "invoice.rejected")
    assert rejected.reason_code == "overpayment" and "233.00" in rejected.detail
    rest = only(
        desk.send(s.record_payment("D1", "233.00", invoice_id=posted.invoice_id)), "invoice.paid"
    )
    assert (rest.amount_paid_total, rest.balance_due, rest.status.value) == (
        D("333.10"),
        D("0.00"),
        "complete",
    )
    assert len(desk.book.new_payments) == 2
    assert desk.invoice(posted.invoice_id).payment_status is domain.PaymentStatus.COMPLETE
    assert desk.outstanding(ACCOUNT) == 0


@pytest.mark.parametrize(
    ("deal", "invoice", "amount", "currency", "code"),
    [
        ("D1", "unknown", "10", "EUR", "unknown_invoice"),
        ("D9", "known", "10", "EUR", "deal_mismatch"),
        ("D1", "known", "10", "USD", "currency_mismatch"),
        ("D1", "known", "10.005", "EUR", "invalid_amount"),
    ],
)
def test_payments_that_do_not_fit_are_refused(
    deal: str, invoice: str, amount: str, currency: str, code: str
) -> None:
    desk = Desk()
    posted = invoiced(desk)
    target = posted.invoice_id if invoice == "known" else uuid4()
    pay = s.record_payment(deal, amount, invoice_id=target, currency=currency)
    rejected = only(desk.send(pay), "invoice.rejected")
    assert (rejected.reason_code, rejected.command_type) == (code, "invoice.record_payment")
    assert not desk.book.new_payments


def test_a_payment_id_seen_on_another_invoice_is_refused_not_dropped() -> None:
    desk = Desk()
    first, second = invoiced(desk, "D1"), invoiced(desk, "D2")
    desk.send(s.record_payment("D1", "10", invoice_id=first.invoice_id, payment_id="P-1"))
    reused = s.record_payment("D2", "10", invoice_id=second.invoice_id, payment_id="P-1")
    assert refused(desk.send(reused)) == "payment_id_reused"
    assert desk.invoice(second.invoice_id).amount_paid == 0


def test_an_accepted_overpayment_is_held_as_customer_credit_and_a_refund_due() -> None:
    desk = Desk(policy=domain.InvoicingPolicy(accept_overpayments=True))
    posted = invoiced(desk)
    events = desk.send(s.record_payment("D1", "350.00", invoice_id=posted.invoice_id))
    assert topics(events) == ["invoice.paid", "refund.due"]
    paid, due = (e.payload for _, e in events)
    assert (paid.amount_paid_total, paid.balance_due, paid.status.value) == (
        D("350.00"),
        D("0.00"),
        "complete",
    )
    assert (due.amount, due.credit_balance, due.cause.value) == (
        D("16.90"),
        D("16.90"),
        "overpayment",
    )
    assert due.payment_id == paid.payment_id and due.invoice_id == posted.invoice_id
    invoice = desk.invoice(posted.invoice_id)
    assert (invoice.balance_due, invoice.moved_to_credit) == (D(0), D("16.90"))
    assert desk.credit(ACCOUNT) == D("16.90")
    assert desk.outstanding(ACCOUNT) == D("-16.90")


def test_a_payment_on_a_fully_credited_invoice_is_recorded_and_held_as_credit() -> None:
    desk = Desk()
    posted = invoiced(desk)
    desk.send(s.cancel_invoice("D1", posted.invoice_id))
    events = desk.send(s.record_payment("D1", "333.10", invoice_id=posted.invoice_id))
    assert topics(events) == ["invoice.paid", "refund.due"]
    due = on(events, "refund.due")[0]
    assert (due.amount, due.cause.value) == (D("333.10"), "payment_on_credited_invoice")
    invoice = desk.invoice(posted.invoice_id)
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        domain.InvoiceState.CANCELED,
        D("333.10"),
        D(0),
    )
    assert desk.credit(ACCOUNT) == D("333.10")


# --- one payment, several invoices ---------------------------------------------------------


def test_a_payment_spread_over_invoices_of_one_account_settles_each() -> None:
    desk = Desk()
    first, second = invoiced(desk, "D1"), invoiced(desk, "D2")
    spread = s.record_payment(
        "D1",
        "433.10",
        payment_id="P-1",
        allocations=((first.invoice_id, "333.10"), (second.invoice_id, "100.00")),
    )
    events = desk.send(spread)
    assert topics(events) == ["invoice.paid", "invoice.paid"]
    assert [e.deal_id for _, e in events] == ["D1", "D2"]
    assert desk.invoice(first.invoice_id).balance_due == 0
    assert desk.invoice(second.invoice_id).balance_due == D("233.10")
    assert desk.book.payments_seen["P-1"] == {first.invoice_id, second.invoice_id}
    assert desk.send(spread.model_copy(update={"event_id": uuid4()})) == []
    assert desk.outstanding(ACCOUNT) == D("233.10")


def test_a_payment_spread_over_several_accounts_or_an_unknown_invoice_is_refused() -> None:
    desk = Desk()
    mine, theirs = invoiced(desk, "D1"), invoiced(desk, "D2", account=uuid4())
    both = ((mine.invoice_id, "10"), (theirs.invoice_id, "10"))
    assert refused(desk.send(s.record_payment("D1", "20", allocations=both))) == "several_accounts"
    unknown = ((mine.invoice_id, "10"), (uuid4(), "10"))
    assert refused(desk.send(s.record_payment("D1", "20", allocations=unknown))) == (
        "unknown_invoice"
    )
    over = ((mine.invoice_id, "333.11"),)
    assert refused(desk.send(s.record_payment("D1", "333.11", allocations=over))) == "overpayment"
    assert not desk.book.new_payments


def test_one_invoice_named_twice_in_a_payment_is_checked_for_the_sum() -> None:
    desk = Desk()
    posted = invoiced(desk)
    twice = ((posted.invoice_id, "200.00"), (posted.invoice_id, "200.00"))
    rejected = only(
        desk.send(s.record_payment("D1", "400.00", allocations=twice)), "invoice.rejected"
    )
    assert rejected.reason_code == "overpayment"
    assert desk.credit(ACCOUNT) == 0 and not desk.book.new_payments


# --- refunds -------------------------------------------------------------------------------


def test_a_refund_pays_back_held_credit_once() -> None:
    desk = Desk()
    with_credit(desk)
    refund = s.record_refund(ACCOUNT, "100.00", refund_id="RF-1")
    events = desk.send(refund)
    done = only(events, "invoice.refunded")
    assert events[0][1].deal_id == str(ACCOUNT)
    assert (done.refund_id, done.amount, done.credit_balance) == ("RF-1", D("100.00"), D("233.10"))
    assert desk.send(refund.model_copy(update={"event_id": uuid4()})) == []
    assert desk.credit(ACCOUNT) == D("233.10")
    # The customer paid 333.10 for nothing and got 100.00 back.
    assert desk.outstanding(ACCOUNT) == D("-233.10")


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("333.11", "EUR", "refund_exceeds_credit"),
        ("1", "USD", "refund_exceeds_credit"),
        ("0.005", "EUR", "invalid_amount"),
    ],
)
def test_refunds_beyond_the_credit_held_or_not_in_cents_are_refused(
    amount: str, currency: str, code: str
) -> None:
    desk = Desk()
    with_credit(desk)
    events = desk.send(s.record_refund(ACCOUNT, amount, currency=currency))
    rejected = only(events, "invoice.rejected")
    assert (rejected.reason_code, rejected.command_type) == (code, "invoice.record_refund")
    assert desk.credit(ACCOUNT) == D("333.10") and not desk.book.new_refunds


def test_an_account_without_credit_gets_no_refund() -> None:
    events = Desk().send(s.record_refund(uuid4(), "1"))
    assert refused(events) == "refund_exceeds_credit"


# --- customer credit applied ---------------------------------------------------------------


def test_customer_credit_settles_another_invoice_of_the_account_once() -> None:
    desk = Desk()
    with_credit(desk)
    posted = invoiced(desk, "D1")
    apply = s.apply_credit(ACCOUNT, posted.invoice_id, "100.00", application_id="AP-1")
    applied = only(desk.send(apply), "invoice.credit_applied")
    assert (applied.application_id, applied.amount) == ("AP-1", D("100.00"))
    assert (applied.invoice_balance_due, applied.credit_balance) == (D("233.10"), D("233.10"))
    invoice = desk.invoice(posted.invoice_id)
    assert (invoice.credit_applied, invoice.state) == (D("100.00"), domain.InvoiceState.PAID)
    assert invoice.payment_status is domain.PaymentStatus.PARTIAL
    assert desk.send(apply.model_copy(update={"event_id": uuid4()})) == []
    assert desk.credit(ACCOUNT) == D("233.10")
    # Paid 333.10, billed 333.10 (and credited the first order's): nothing owed, nothing held
    # beyond the credit.
    assert desk.outstanding(ACCOUNT) == 0
    rest = s.apply_credit(ACCOUNT, posted.invoice_id, "233.10")
    assert topics(desk.send(rest)) == ["invoice.credit_applied"]
    invoice = desk.invoice(posted.invoice_id)
    assert (invoice.balance_due, invoice.payment_status) == (D(0), domain.PaymentStatus.COMPLETE)
    assert desk.credit(ACCOUNT) == 0


def test_credit_applications_that_do_not_fit_are_refused() -> None:
    desk = Desk()
    with_credit(desk, "100.00")
    posted = invoiced(desk, "D1")
    other = invoiced(desk, "D2", account=uuid4())
    desk.send(s.record_payment("D1", "300.00", invoice_id=posted.invoice_id))
    cases = [
        (s.apply_credit(ACCOUNT, posted.invoice_id, "100.01"), "exceeds_credit"),
        (s.apply_credit(ACCOUNT, posted.invoice_id, "33.11"), "exceeds_balance"),
        (s.apply_credit(ACCOUNT, other.invoice_id, "1"), "account_mismatch"),
        (s.apply_credit(ACCOUNT, posted.invoice_id, "1", currency="JPY"), "account_mismatch"),
        (s.apply_credit(ACCOUNT, uuid4(), "1"), "unknown_invoice"),
        (s.apply_credit(ACCOUNT, posted.invoice_id, "0.005"), "invalid_amount"),
    ]
    for command, code in cases:
        rejected = only(desk.send(command), "invoice.rejected")
        assert (rejected.reason_code, rejected.command_type) == (code, "invoice.apply_credit")
    assert desk.credit(ACCOUNT) == D("100.00")
    assert desk.invoice(posted.invoice_id).balance_due == D("33.10")
    assert not desk.book.new_applications
