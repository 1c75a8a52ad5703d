"""Discounts by the one rule of contracts.money: per line (rate, amount, volume tier), per quote
(rate, amount, allocated to the lines), and totals equal to the cent from the quote through the
order, the invoice and the credit note."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.catalog import VolumeDiscountTier, VolumeDiscountUpserted
from contracts.envelope import Envelope, decode, make_envelope
from contracts.money import InvalidLine, allocate, line_discount, price_line, sum_totals
from contracts.quotes import QuoteLineInput, ReviseQuote
from services.order_svc.domain import OrderPolicy
from services.order_svc.handlers import HANDLERS as ORDER_HANDLERS
from services.order_svc.store import OrderBook
from services.quote_svc.domain import QuotePolicy, quote_id_for
from services.quote_svc.handlers import HANDLERS as QUOTE_HANDLERS
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming
from tests.support import invoices as s
from tests.support.invoice_driver import Desk, on
from tests.support.quotes import accept, opportunity_id_of, price, qualified

D = Decimal
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_line_s_rates_add_up_and_are_rounded_once_then_its_amount_is_added() -> None:
    # base 3 x 19.99 = 59.97; 10 % + 5 % = 8.9955 -> 9.00 (one rounding, half-up); + 1.00
    assert line_discount(D(3), D("19.99"), "EUR", rate=D("0.15"), amount=D(1)) == D("10.00")
    # Rates are added before the one rounding: 12.5 % + 12.5 % of 10 JPY is round(2.5) = 3,
    # where two roundings would give round(1.25) + round(1.25) = 2.
    assert line_discount(D(1), D(10), "JPY", rate=D("0.25")) == D(3)
    with pytest.raises(InvalidLine, match="exceeds"):
        line_discount(D(1), D(10), "EUR", rate=D("0.5"), amount=D("5.01"))
    with pytest.raises(InvalidLine, match="above 1"):
        line_discount(D(1), D(10), "EUR", rate=D("1.2"))


def test_a_quote_level_discount_is_allocated_by_the_largest_remainder() -> None:
    assert allocate(D("10.00"), [D("33.33"), D("33.33"), D("33.34")], "EUR") == (
        D("3.33"),
        D("3.33"),
        D("3.34"),
    )
    # Equal remainders: the lower line first.
    assert allocate(D("0.01"), [D(1), D(1)], "EUR") == (D("0.01"), D("0.00"))
    assert allocate(D(0), [D(5)], "EUR") == (D("0.00"),)
    with pytest.raises(InvalidLine):
        allocate(D(11), [D(5), D(5)], "EUR")


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False), min_size=1
    ),
    share=st.fractions(min_value=0, max_value=1),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_allocated_shares_add_up_to_the_cent_and_none_exceeds_its_line(
    weights: list[Decimal], share: Any, currency: str
) -> None:
    exponent = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    quantum = D(1).scaleb(-exponent)
    nets = [w.quantize(quantum) for w in weights]
    total = (sum(nets, D(0)) * D(share.numerator) / D(share.denominator)).quantize(
        quantum, rounding="ROUND_FLOOR"
    )

    shares = allocate(total, nets, currency)

    assert sum(shares, D(0)) == total
    assert all(D(0) <= sh <= n for sh, n in zip(shares, nets, strict=True))


def volume(sku: str, *tiers: tuple[str, str]) -> Envelope[VolumeDiscountUpserted]:
    payload = VolumeDiscountUpserted(
        price_list_id="STANDARD",
        sku=sku,
        tiers=tuple(VolumeDiscountTier(min_quantity=D(q), discount_rate=D(r)) for q, r in tiers),
    )
    return make_envelope(
        payload, event_type=payload.EVENT_TYPE, deal_id="STANDARD", producer="erp", occurred_at=NOW
    )


def send(book: Any, handlers: Any, envelope: Envelope[Any], policy: Any) -> list[Any]:
    out = handlers[envelope.event_type](book, Incoming(envelope, "x", 0, 0), policy, NOW)
    return [decode(o.payload or b"") for o in out]


def test_a_volume_tier_discounts_a_lead_s_line() -> None:
    book, policy = QuoteBook(), QuotePolicy()
    send(book, QUOTE_HANDLERS, price("SKU-1001", "19.99"), policy)
    send(book, QUOTE_HANDLERS, volume("SKU-1001", ("10", "0.05"), ("100", "0.1")), policy)

    out = send(book, QUOTE_HANDLERS, qualified("L1", interests=(("SKU-1001", "12"),)), policy)

    issued = next(e.payload for e in out if e.event_type == "quote.issued")
    # 12 x 19.99 = 239.88; 5 % = 11.994 -> 11.99
    assert (issued.lines[0].base_amount, issued.lines[0].discount_amount) == (
        D("239.88"),
        D("11.99"),
    )


def revise_with(
    book: QuoteBook, lines: tuple[QuoteLineInput, ...], rate: str | None, amount: str | None
) -> Any:
    payload = ReviseQuote(
        quote_id=quote_id_for(opportunity_id_of("L1"), 1),
        lines=lines,
        requested_by="rep",
        quote_discount_rate=None if rate is None else D(rate),
        quote_discount_amount=None if amount is None else D(amount),
    )
    command = make_envelope(
        payload, event_type="quote.revise", deal_id="L1", producer="crm", occurred_at=NOW
    )
    return send(book, QUOTE_HANDLERS, command, QuotePolicy())


_LINE = st.tuples(
    st.decimals(min_value=D("0.01"), max_value=D(500), places=2),  # unit price
    st.integers(min_value=1, max_value=40),  # quantity
    st.sampled_from(["0", "0.07", "0.19"]),  # tax
    st.sampled_from([None, "0.05", "0.125", "0.3"]),  # line rate
)


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=5),
    quote_rate=st.sampled_from([None, "0.02", "0.333"]),
    quote_amount=st.sampled_from([None, "0.01", "3.50"]),
)
def test_totals_are_equal_to_the_cent_from_quote_to_order_invoice_and_credit_note(
    lines: list[tuple[Decimal, int, str, str | None]],
    quote_rate: str | None,
    quote_amount: str | None,
) -> None:
    book = QuoteBook()
    send(book, QUOTE_HANDLERS, qualified("L1", interests=(("SKU-X", "1"),)), QuotePolicy())
    inputs = tuple(
        QuoteLineInput(
            description=f"item {n}",
            quantity=D(q),
            unit_price=p,
            tax_rate=D(t),
            discount_rate=None if r is None else D(r),
        )
        for n, (p, q, t, r) in enumerate(lines, 1)
    )
    out = revise_with(book, inputs, quote_rate, quote_amount)
    if out[0].event_type == "quote.rejected":
        # A quote discount above what the lines come to is refused, never spread below zero.
        assert out[0].payload.reason_code == "invalid_line"
        assert "exceeds" in out[0].payload.detail
        return
    issued = next(e.payload for e in out if e.event_type == "quote.issued")
    # The quote: its totals are the sums of its rounded lines, each line priced by the rule.
    for doc_line in issued.lines:
        again = price_line(
            doc_line.quantity,
            doc_line.unit_price,
            doc_line.discount_amount,
            doc_line.tax_rate,
            "EUR",
        )
        assert (again.net, again.tax) == (doc_line.net_amount, doc_line.tax_amount)
    assert (
        issued.totals.grand_total
        == sum_totals((ln.amounts("EUR") for ln in issued.lines), "EUR").grand_total
    )
    if quote_rate or quote_amount:
        assert issued.quote_discount_amount is not None
    # The order made from it, the invoice made from that, and a credit note of it all.
    accepted = send(book, QUOTE_HANDLERS, accept("L1", issued.quote_id), QuotePolicy())[0]
    order_book = OrderBook()
    (confirmed,) = send(order_book, ORDER_HANDLERS, accepted, OrderPolicy())
    assert confirmed.payload.totals == issued.totals
    desk = Desk()
    (invoice,) = on(desk.send(confirmed), "invoice.posted")
    assert invoice.totals == issued.totals
    if invoice.totals.grand_total == 0:
        return  # discounted to nothing: there is nothing to credit
    (credit,) = on(
        desk.send(s.credit_invoice("L1", invoice.invoice_id, ref="ALL")), "invoice.credited"
    )
    assert credit.totals == issued.totals
