"""Currencies: rates of the day, a lead's budget converted or held until a rate exists (never
relabelled), price lists per currency, and base amounts carried from the quote through the
order, the invoice and the credit note, each total round(rate x amount) by the money rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import Envelope, decode, make_envelope
from contracts.money import DocumentTotals, convert, to_base
from contracts.rates import ExchangeRatePublished
from services.order_svc.domain import OrderPolicy
from services.order_svc.handlers import HANDLERS as ORDER_HANDLERS
from services.order_svc.store import OrderBook
from services.quote_svc.domain import ExchangeRate, QuotePolicy, Rates
from services.quote_svc.handlers import HANDLERS as QUOTE_HANDLERS
from services.quote_svc.handlers import touches_of
from services.quote_svc.store import QuoteBook
from shared.messages import Incoming
from tests.support import invoices as s
from tests.support.invoice_driver import Desk, on
from tests.support.quotes import accept, price, qualified

D = Decimal
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


def rate(from_c: str, to_c: str, value: str, on: date = TODAY) -> Envelope[ExchangeRatePublished]:
    payload = ExchangeRatePublished(
        from_currency=from_c, to_currency=to_c, rate=D(value), valid_on=on
    )
    return make_envelope(
        payload,
        event_type=payload.EVENT_TYPE,
        deal_id=f"{from_c}{to_c}",
        producer="erp",
        occurred_at=NOW,
    )


def send(book: Any, envelope: Envelope[Any], policy: QuotePolicy) -> list[Envelope[Any]]:
    out = QUOTE_HANDLERS[envelope.event_type](book, Incoming(envelope, "x", 0, 0), policy, NOW)
    return [decode(o.payload or b"") for o in out]


def types(events: list[Envelope[Any]]) -> list[str]:
    return [e.event_type for e in events]


def one(events: list[Envelope[Any]], event_type: str) -> Any:
    (found,) = [e.payload for e in events if e.event_type == event_type]
    return found


def test_the_rate_of_a_day_is_the_latest_on_or_before_it_and_inverts_when_needed() -> None:
    rates = Rates(
        [
            ExchangeRate("USD", "EUR", date(2026, 11, 20), D("0.90")),
            ExchangeRate("USD", "EUR", date(2026, 11, 26), D("0.92")),
            ExchangeRate("EUR", "GBP", date(2026, 11, 1), D("0.8")),
        ]
    )
    assert rates.of("USD", "EUR", TODAY).rate == D("0.92")  # type: ignore[union-attr]
    assert rates.of("USD", "EUR", date(2026, 11, 21)).rate == D("0.90")  # type: ignore[union-attr]
    assert rates.of("USD", "EUR", date(2026, 11, 19)) is None
    assert rates.of("GBP", "EUR", TODAY).rate == D("1.25")  # type: ignore[union-attr]
    assert rates.of("EUR", "EUR", TODAY).rate == 1  # type: ignore[union-attr]
    assert rates.of("JPY", "EUR", TODAY) is None


def test_a_usd_budget_is_converted_at_the_rate_of_the_day_never_relabelled() -> None:
    book, policy = QuoteBook(), QuotePolicy()
    send(book, price("SKU-1001", "19.99"), policy)
    send(book, rate("USD", "EUR", "0.92"), policy)

    events = send(
        book,
        qualified(
            "L1", currency="USD", estimated_revenue="1000.00", interests=(("SKU-1001", "3"),)
        ),
        policy,
    )

    opened = one(events, "opportunity.opened")
    assert (opened.currency, opened.estimated_revenue) == ("EUR", D("920.00"))
    issued = one(events, "quote.issued")
    assert issued.currency == "EUR"
    assert (issued.base.base_currency, issued.base.exchange_rate) == ("EUR", D(1))
    assert issued.base.totals == issued.totals


def test_without_a_rate_the_lead_is_refused_with_a_reason_then_opened_when_one_comes() -> None:
    book, policy = QuoteBook(), QuotePolicy()
    send(book, price("SKU-1001", "19.99"), policy)
    lead = qualified("L1", currency="USD", estimated_revenue="1000.00")

    refused = send(book, lead, policy)

    assert types(refused) == ["quote.rejected"]
    rejection = refused[0].payload
    assert (rejection.reason_code, rejection.command_type) == ("no_exchange_rate", "lead.qualified")
    assert "USD->EUR" in rejection.detail
    assert book.opportunities == {}
    # A rate of another pair changes nothing; the USD one opens it, as caused by the lead.
    assert send(book, rate("GBP", "EUR", "1.17"), policy) == []
    opened = send(book, rate("EUR", "USD", "1.25"), policy)
    assert types(opened) == ["opportunity.opened", "quote.issued"]
    assert {e.deal_id for e in opened} == {"L1"}
    assert {e.causation_id for e in opened} == {lead.event_id}
    assert one(opened, "opportunity.opened").estimated_revenue == D("800.00")
    assert book.released_waiting == {"L1"}


def test_a_rate_batch_loads_the_waiting_qualifications_and_takes_the_counter() -> None:
    touches = touches_of(
        [Incoming(rate("USD", "EUR", "0.92"), "fx.rates", 0, 0)], QuotePolicy(), NOW
    )
    assert touches.waiting_pairs == frozenset({("USD", "EUR")})
    assert touches.counter_year == NOW.year and touches.rates_as_of == TODAY


def test_a_lead_in_a_currency_with_its_own_list_is_quoted_in_it_with_base_amounts() -> None:
    policy = QuotePolicy(currency_lists=(("USD", "PL-USD"),))
    book = QuoteBook()
    send(book, price("SKU-1001", "21.99", price_list_id="PL-USD", currency="USD"), policy)
    lead = qualified(
        "L1", currency="USD", estimated_revenue="500.00", interests=(("SKU-1001", "7"),)
    )

    without_rate = send(book, lead, policy)
    # Priced, but no USD->EUR rate for its base amounts: it waits as a Draft.
    assert types(without_rate) == ["opportunity.opened", "quote.drafted"]
    assert one(without_rate, "opportunity.opened").estimated_revenue == D("500.00")

    book = QuoteBook()
    send(book, price("SKU-1001", "21.99", price_list_id="PL-USD", currency="USD"), policy)
    send(book, rate("USD", "EUR", "0.9137"), policy)
    issued = one(send(book, lead, policy), "quote.issued")
    assert (issued.currency, issued.price_list_id) == ("USD", "PL-USD")
    assert issued.base.exchange_rate == D("0.9137")
    assert issued.base.totals.grand_total == convert(issued.totals.grand_total, D("0.9137"), "EUR")
    # The order and its invoice and credit note carry the quote's rate.
    accepted = send(book, accept("L1", issued.quote_id), policy)[0]
    out = ORDER_HANDLERS["quote.accepted"](
        OrderBook(), Incoming(accepted, "x", 0, 0), OrderPolicy(), NOW
    )
    confirmed = decode(out[0].payload or b"")
    assert confirmed.payload.base == issued.base
    desk = Desk()
    (invoice,) = on(desk.send(confirmed), "invoice.posted")
    assert invoice.base == issued.base
    (credit,) = on(
        desk.send(s.credit_invoice("L1", invoice.invoice_id, ref="ALL")), "invoice.credited"
    )
    assert credit.base == issued.base


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    rate_=st.decimals(min_value=D("0.000001"), max_value=D(1000), places=6),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_base_amounts_are_rate_times_amount_rounded_half_up(
    amount: Decimal, rate_: Decimal, currency: str
) -> None:
    converted = convert(amount, rate_, currency)
    exact = amount * rate_
    quantum = D(1).scaleb(-{"EUR": 2, "JPY": 0, "KWD": 3}[currency])
    assert abs(converted - exact) <= quantum / 2
    totals = DocumentTotals(amount, D(0), amount, D(0), amount, "EUR")
    assert to_base(totals, rate_, currency).grand_total == converted
