"""quote_svc handlers against an in-memory QuoteBook: state and recorded events, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.documents import InvoicingPolicy
from contracts.envelope import Envelope, decode
from contracts.money import sum_totals
from contracts.quotes import QuoteRejectReason
from services.quote_svc.domain import (
    OpportunityState,
    QuoteLine,
    QuotePolicy,
    QuoteState,
    quote_id_for,
)
from services.quote_svc.handlers import HANDLERS, touches_of
from services.quote_svc.store import QuoteBook, line_from_json, line_to_json
from shared.messages import Incoming, Outgoing
from tests.support.quotes import (
    accept,
    line,
    opportunity_id_of,
    price,
    qualified,
    reject,
    revise,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
POLICY = QuotePolicy()
PRICES = (price("SKU-1001", "19.99"), price("SKU-3005", "14.95", tax_rate="0.07"))


def handle(book: QuoteBook, envelope: Envelope[Any], now: datetime = NOW) -> list[Outgoing]:
    msg = Incoming(envelope, "any", 0, 0)
    return HANDLERS[envelope.event_type](book, msg, POLICY, now)


def events(out: list[Outgoing]) -> list[tuple[str, Envelope[Any]]]:
    return [(o.topic, decode(o.payload or b"")) for o in out]


def priced_book() -> QuoteBook:
    book = QuoteBook()
    for envelope in PRICES:
        assert handle(book, envelope) == []
    return book


def test_prices_are_kept_and_an_update_or_withdrawal_wins() -> None:
    book = priced_book()
    assert book.catalog("STANDARD")["SKU-1001"].unit_price == Decimal("19.99")
    handle(book, price("SKU-1001", "18.00", active=False))
    stored = book.changed_prices[("STANDARD", "SKU-1001")]
    assert (stored.unit_price, stored.active) == (Decimal("18.00"), False)


def test_a_qualified_lead_with_known_skus_is_issued_with_lines_and_totals() -> None:
    book = priced_book()
    lead = qualified("L1", interests=(("SKU-1001", "3"), ("SKU-3005", "7")))
    out = events(handle(book, lead))
    assert [t for t, _ in out] == ["opportunity.opened", "quote.issued"]
    opened = out[0][1].payload
    assert (opened.state, opened.pipeline_phase, opened.probability) == ("open", "propose", 40)
    envelope = out[1][1]
    assert (envelope.deal_id, envelope.causation_id, envelope.producer) == (
        "L1",
        lead.event_id,
        "quote_svc",
    )
    issued = envelope.payload
    assert (issued.quote_number, issued.revision, issued.currency) == ("Q-2026-00001", 1, "EUR")
    assert issued.quote_id == quote_id_for(lead.payload.opportunity_id, 1)
    assert issued.totals.grand_total == Decimal("183.34")
    assert issued.totals.tax_total == Decimal("18.72")
    assert [(ln.sku, ln.net_amount, ln.tax_amount) for ln in issued.lines] == [
        ("SKU-1001", Decimal("59.97"), Decimal("11.39")),
        ("SKU-3005", Decimal("104.65"), Decimal("7.33")),
    ]
    # The wire totals are the sums of the wire lines: what order and invoice will recompute.
    assert sum_totals([ln.amounts("EUR") for ln in issued.lines], "EUR") == issued.totals.to_money(
        "EUR"
    )
    assert (issued.valid_from, issued.valid_until) == (date(2026, 11, 27), date(2026, 12, 27))
    assert issued.payment_terms.value == "net_30"
    assert issued.contact.email == "L1@example.com"
    assert issued.account_name == "Acme L1"
    opp = book.changed_opportunities[lead.payload.opportunity_id]
    assert (opp.pipeline_phase, opp.estimated_revenue) == ("propose", Decimal("164.62"))
    assert book.changed_counters == {2026}


def test_quote_numbers_follow_the_counter_and_a_redelivery_takes_none() -> None:
    book = priced_book()
    book.counters[2026] = 41
    first = events(handle(book, qualified("L1")))[1][1].payload
    assert handle(book, qualified("L1")) == []  # a second delivery, other event id
    second = events(handle(book, qualified("L2")))[1][1].payload
    assert (first.quote_number, second.quote_number) == ("Q-2026-00042", "Q-2026-00043")
    assert len(book.changed_opportunities) == 2


def test_an_unknown_sku_leaves_a_draft_announced_as_needing_a_price() -> None:
    book = priced_book()
    lead = qualified("L1", interests=(("SKU-1001", "1"), ("SKU-NEW", "2")))
    out = events(handle(book, lead))
    assert [t for t, _ in out] == ["opportunity.opened", "quote.drafted"]
    drafted = out[1][1].payload
    assert (drafted.waiting_for, drafted.unpriced_lines) == ("needs_price", (2,))
    quote = book.changed_quotes[quote_id_for(lead.payload.opportunity_id, 1)]
    assert quote.state is QuoteState.DRAFT
    assert quote.quote_number == "Q-2026-00001"


def test_a_draft_revised_with_prices_is_issued_as_revision_2_without_closing_noise() -> None:
    book = priced_book()
    lead = qualified("L1", interests=(("SKU-NEW", "2"),))
    handle(book, lead)
    first = quote_id_for(lead.payload.opportunity_id, 1)
    out = events(handle(book, revise("L1", first, line("SKU-NEW", "2", unit_price="100"))))
    assert [t for t, _ in out] == ["quote.issued", "opportunity.updated"]
    issued = out[0][1].payload
    assert (issued.revision, issued.quote_number) == (2, "Q-2026-00001")
    assert issued.lines[0].write_in is True and issued.lines[0].sku == "SKU-NEW"
    assert issued.totals.net_total == Decimal("200.00")
    assert book.changed_quotes[first].status_reason == "revised"


def test_revising_an_active_quote_announces_its_closing() -> None:
    book = priced_book()
    lead = qualified("L1")
    handle(book, lead)
    first = quote_id_for(lead.payload.opportunity_id, 1)
    out = events(handle(book, revise("L1", first, line("SKU-1001", "12"))))
    assert [t for t, _ in out] == ["quote.closed", "quote.issued", "opportunity.updated"]
    assert (out[0][1].payload.status.value, out[0][1].payload.revision) == ("revised", 1)


def test_accepting_publishes_the_accepted_document_and_the_won_opportunity() -> None:
    book = priced_book()
    lead = qualified("L1", interests=(("SKU-1001", "10"),))
    handle(book, lead)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    out = events(handle(book, accept("L1", quote_id, po="PO 4711")))
    assert [t for t, _ in out] == ["quote.accepted", "opportunity.closed"]
    accepted, closed = out[0][1].payload, out[1][1].payload
    assert (accepted.customer_po, accepted.accepted_at, accepted.payment_terms.value) == (
        "PO 4711",
        NOW,
        "net_30",
    )
    assert accepted.totals.net_total == Decimal("199.90")
    assert accepted.contact_id == lead.payload.contact_id
    assert (closed.outcome.value, closed.actual_revenue, closed.currency) == (
        "won",
        Decimal("199.90"),
        "EUR",
    )
    assert book.changed_opportunities[lead.payload.opportunity_id].state is OpportunityState.WON
    again = events(handle(book, accept("L1", quote_id)))
    assert [(t, e.payload.reason_code) for t, e in again] == [("quote.rejected", "already_won")]


def test_the_billing_terms_of_the_acceptance_are_on_quote_accepted() -> None:
    book = priced_book()
    lead = qualified("L1", interests=(("SKU-1001", "10"),))
    handle(book, lead)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    command = accept(
        "L1", quote_id, invoicing_policy=InvoicingPolicy.DOWN_PAYMENT, down_payment_rate="0.3"
    )
    out = events(handle(book, command))
    accepted = out[0][1].payload
    assert (accepted.invoicing_policy, accepted.down_payment_rate) == (
        InvoicingPolicy.DOWN_PAYMENT,
        Decimal("0.3"),
    )


def test_an_acceptance_without_billing_terms_leaves_them_to_the_deployment() -> None:
    book = priced_book()
    lead = qualified("L1")
    handle(book, lead)
    out = events(handle(book, accept("L1", quote_id_for(lead.payload.opportunity_id, 1))))
    accepted = out[0][1].payload
    assert (accepted.invoicing_policy, accepted.down_payment_rate) == (None, None)


def test_contradictory_billing_terms_are_refused_and_the_quote_stays_active() -> None:
    book = priced_book()
    lead = qualified("L1")
    handle(book, lead)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    command = accept(
        "L1", quote_id, invoicing_policy=InvoicingPolicy.ON_ORDER, down_payment_rate="0.3"
    )
    out = events(handle(book, command))
    assert [(t, e.payload.reason_code) for t, e in out] == [
        ("quote.rejected", "invalid_billing_terms")
    ]
    assert out[0][1].payload.command_event_id == command.event_id
    assert book.changed_quotes[quote_id].state is QuoteState.ACTIVE
    assert book.changed_opportunities[lead.payload.opportunity_id].state is OpportunityState.OPEN


def test_a_late_acceptance_expires_the_quote_and_is_refused() -> None:
    book = priced_book()
    lead = qualified("L1")
    handle(book, lead)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    out = events(handle(book, accept("L1", quote_id), now=NOW + timedelta(days=40)))
    assert [t for t, _ in out] == ["quote.closed", "quote.rejected"]
    assert out[0][1].payload.status.value == "expired"
    refusal = out[1][1].payload
    assert (refusal.reason_code, refusal.command_type, refusal.subject_id) == (
        "expired",
        "quote.accept",
        str(quote_id),
    )
    assert book.changed_quotes[quote_id].status_reason == "expired"


def test_rejecting_loses_the_quote_and_the_opportunity() -> None:
    book = priced_book()
    lead = qualified("L1")
    handle(book, lead)
    quote_id = quote_id_for(lead.payload.opportunity_id, 1)
    out = events(handle(book, reject("L1", quote_id, QuoteRejectReason.CANCELED)))
    assert [t for t, _ in out] == ["quote.closed", "opportunity.closed"]
    assert out[0][1].payload.status.value == "canceled"
    closed = out[1][1].payload
    assert (closed.outcome.value, closed.status_reason, closed.actual_revenue) == (
        "lost",
        "canceled",
        None,
    )


def test_commands_for_unknown_quotes_or_other_deals_are_refused() -> None:
    book = priced_book()
    handle(book, qualified("L1"))
    unknown = events(handle(book, accept("L1", quote_id_for(opportunity_id_of("nobody"), 1))))
    assert unknown[0][1].payload.reason_code == "unknown_quote"
    mine = quote_id_for(opportunity_id_of("L1"), 1)
    other = events(handle(book, reject("L2", mine)))
    assert [(t, e.payload.reason_code) for t, e in other] == [("quote.rejected", "deal_mismatch")]
    assert book.changed_quotes[mine].state is QuoteState.ACTIVE


def test_lines_survive_the_round_trip_through_jsonb() -> None:
    for ln in (
        QuoteLine(
            1,
            "SKU-1",
            "x",
            False,
            Decimal("2.5"),
            "kg",
            Decimal("19.9900"),
            Decimal(0),
            Decimal("0.19"),
        ),
        QuoteLine(2, None, "y", True, Decimal(1), "each", None, Decimal("1.00"), Decimal(0)),
    ):
        assert line_from_json(line_to_json(ln)) == ln


def test_a_batch_touches_its_leads_quotes_and_skus_and_only_leads_lock_the_counter() -> None:
    lead = qualified("L1", interests=(("SKU-1001", "1"), ("SKU-3005", "2")))
    quote_id = quote_id_for(opportunity_id_of("L0"), 1)
    setup = line(None, "1", unit_price="5", tax_rate="0.19", description="Setup")
    batch = [
        Incoming(PRICES[0], "catalog.prices", 0, 0),
        Incoming(lead, "lead.qualified", 0, 0),
        Incoming(revise("L0", quote_id, line("SKU-4000", "1"), setup), "quote.commands", 0, 0),
        Incoming(accept("L2", quote_id_for(opportunity_id_of("L2"), 1)), "quote.commands", 0, 1),
    ]
    touches = touches_of(batch, POLICY, NOW)
    assert touches.opportunity_ids == {lead.payload.opportunity_id}
    assert touches.lead_ids == {"L1"}
    assert touches.quote_ids == {quote_id, quote_id_for(opportunity_id_of("L2"), 1)}
    assert touches.skus == {"SKU-1001", "SKU-3005", "SKU-4000"}
    assert touches.price_list_ids == {POLICY.price_list_id}
    assert touches.counter_year == 2026
    assert touches_of(batch[2:], POLICY, NOW).counter_year is None
