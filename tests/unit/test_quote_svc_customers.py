"""quote_svc's customers: the local copy of accounts' master data (newest version wins, a lead's
details fill in), the customer details an issued quote snapshots from it, the delivery terms of
an acceptance, and the lead's lineage on the opportunity. Domain and handlers, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from contracts.envelope import Envelope, decode
from contracts.leads import LeadSource
from services.quote_svc import domain
from services.quote_svc.handlers import HANDLERS, touches_of
from services.quote_svc.store import QuoteBook
from services.quote_svc.store.parties import (
    account_from_row,
    details_from_json,
    details_to_json,
    row_from_account,
)
from shared.messages import Incoming, Outgoing
from tests.support.parties import account_details, address
from tests.support.quotes import (
    accept,
    account_id_of,
    account_updated,
    line,
    opportunity_id_of,
    price,
    qualified,
    revise,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
POLICY = domain.QuotePolicy()
ACCOUNT = UUID("8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f")
WAREHOUSE = address("7 Dock Road", "Hamburg", "DE")
OFFICE = address("1 Counting House Lane")


def handle(book: QuoteBook, envelope: Envelope[Any], now: datetime = NOW) -> list[Outgoing]:
    msg = Incoming(envelope, "any", 0, 0)
    return HANDLERS[envelope.event_type](book, msg, POLICY, now)


def published(out: list[Outgoing], topic: str) -> Any:
    [payload] = [decode(o.payload or b"").payload for o in out if o.topic == topic]
    return payload


def priced_book() -> QuoteBook:
    book = QuoteBook()
    handle(book, price("SKU-1001", "19.99"))
    return book


def account(version: int, **details: Any) -> domain.Account:
    return domain.Account(account_id=ACCOUNT, version=version, **details)


# --- the local copy: which record wins ------------------------------------------------------


def test_a_newer_version_replaces_an_older_one_and_an_older_or_equal_one_changes_nothing() -> None:
    v2 = account(2, name="Acme")
    assert domain.newer_account(None, v2) == v2
    v3 = account(3, name="Acme Ltd")
    assert domain.newer_account(v2, v3) == v3
    assert domain.newer_account(v3, v2) is None
    assert domain.newer_account(v3, account(3, name="other")) is None


def test_a_leads_details_fill_in_only_an_account_known_from_leads_alone() -> None:
    from_lead = account(domain.FROM_LEAD, name="Acme")
    assert domain.newer_account(None, from_lead) == from_lead
    assert domain.newer_account(account(1, name="Acme"), from_lead) is None
    later_lead = account(domain.FROM_LEAD, name="Acme GmbH")
    assert domain.newer_account(from_lead, later_lead) == later_lead
    assert domain.newer_account(from_lead, from_lead) is None
    # A versioned record always replaces what a lead brought.
    assert domain.newer_account(from_lead, account(1)) == account(1)


def test_the_snapshot_sells_to_the_legal_name_then_the_name_then_the_opportunitys() -> None:
    known = account(
        4,
        name="Acme",
        legal_name="Acme Ltd",
        tax_id="GB1",
        erp_customer_number="C-1",
        bill_to=domain.Address(("1 A St",), "London", "GB"),
        ship_to=domain.Address(("2 B St",), "Leeds", "GB"),
    )
    snapshot = domain.customer_snapshot(ACCOUNT, "Acme (CRM)", known)
    assert snapshot == domain.CustomerDetails(
        account_id=ACCOUNT,
        sold_to="Acme Ltd",
        bill_to=known.bill_to,
        ship_to=known.ship_to,
        tax_id="GB1",
        erp_customer_number="C-1",
    )
    assert domain.customer_snapshot(ACCOUNT, "x", account(1, name="Acme")).sold_to == "Acme"
    assert domain.customer_snapshot(ACCOUNT, "Acme (CRM)", None) == domain.CustomerDetails(
        ACCOUNT, "Acme (CRM)"
    )


# --- handlers -------------------------------------------------------------------------------


def test_account_updated_is_kept_newest_version_first_and_announces_nothing() -> None:
    book = QuoteBook()
    assert handle(book, account_updated(ACCOUNT, 2, account_details(ship_to=WAREHOUSE))) == []
    assert handle(book, account_updated(ACCOUNT, 1, account_details(ship_to=OFFICE))) == []
    kept = book.changed_accounts[ACCOUNT]
    assert (kept.version, kept.ship_to) == (
        2,
        domain.Address(("7 Dock Road",), "Hamburg", "DE", "EC1A 1BB"),
    )


def test_an_issued_quote_carries_the_customer_details_the_lead_brought() -> None:
    book = priced_book()
    lead = qualified(
        "L1",
        account=account_details(ship_to=WAREHOUSE),
        source=LeadSource.TRADE_SHOW,
        campaign_id="CMP-2026-FAIR",
        notes="met at the fair",
    )
    issued = published(handle(book, lead), "quote.issued")
    details = issued.customer_details
    assert (details.account_id, details.sold_to) == (account_id_of("L1"), "Analytical Engines Ltd")
    assert (details.ship_to, details.bill_to) == (WAREHOUSE, OFFICE)
    assert (details.tax_id, details.erp_customer_number) == ("GB123456789", "C-10042")
    assert book.changed_accounts[account_id_of("L1")].version == domain.FROM_LEAD
    opportunity = book.changed_opportunities[opportunity_id_of("L1")]
    assert (opportunity.source, opportunity.campaign_id, opportunity.notes) == (
        "trade_show",
        "CMP-2026-FAIR",
        "met at the fair",
    )
    stored = book.changed_quotes[domain.quote_id_for(opportunity_id_of("L1"), 1)]
    assert (
        stored.customer_details is not None and stored.customer_details.sold_to == details.sold_to
    )


def test_master_data_read_before_the_lead_wins_over_the_leads_details() -> None:
    book = priced_book()
    handle(
        book, account_updated(ACCOUNT, 3, account_details(ship_to=WAREHOUSE, legal_name="ERP Ltd"))
    )
    lead = qualified("L1", account_id=ACCOUNT, account=account_details(ship_to=OFFICE))
    details = published(handle(book, lead), "quote.issued").customer_details
    assert (details.sold_to, details.ship_to) == ("ERP Ltd", WAREHOUSE)
    assert book.changed_accounts[ACCOUNT].version == 3


def test_a_leads_newer_account_version_wins_over_an_older_copy() -> None:
    """Review of issue 11, finding 9: the ERP changed the bill-to (v3) just before the lead
    qualified; quote_svc's account.updated partition still lags at v2. The quote is issued
    with what the lead carried, and v3 read later changes nothing."""
    book = priced_book()
    handle(book, account_updated(ACCOUNT, 2, account_details(bill_to=OFFICE, tax_id="GB-OLD")))
    newer = account_details(bill_to=WAREHOUSE, tax_id="GB-NEW")
    lead = qualified("L1", account_id=ACCOUNT, account=newer, account_version=3)
    details = published(handle(book, lead), "quote.issued").customer_details
    assert (details.bill_to, details.tax_id) == (WAREHOUSE, "GB-NEW")
    assert book.changed_accounts[ACCOUNT].version == 3
    handle(book, account_updated(ACCOUNT, 3, newer))
    assert book.changed_accounts[ACCOUNT].version == 3
    # Details at an older version than the copy held change nothing.
    stale = qualified("L2", account_id=ACCOUNT, account=account_details(), account_version=1)
    details = published(handle(book, stale), "quote.issued").customer_details
    assert (details.bill_to, details.tax_id) == (WAREHOUSE, "GB-NEW")


def test_a_lead_without_account_details_issues_with_the_account_name_as_sold_to() -> None:
    details = published(handle(priced_book(), qualified("L1")), "quote.issued").customer_details
    assert details.model_dump(exclude_none=True) == {
        "account_id": account_id_of("L1"),
        "sold_to": "Acme L1",
    }


def test_a_revision_takes_a_fresh_snapshot_of_the_account() -> None:
    book = priced_book()
    lead = qualified("L1", account_id=ACCOUNT, account=account_details(ship_to=OFFICE))
    first = published(handle(book, lead), "quote.issued")
    handle(book, account_updated(ACCOUNT, 1, account_details(ship_to=WAREHOUSE)))
    second = published(
        handle(book, revise("L1", first.quote_id, line("SKU-1001", "3"))), "quote.issued"
    )
    assert (first.customer_details.ship_to, second.customer_details.ship_to) == (OFFICE, WAREHOUSE)
    # The superseded revision keeps what it was issued with.
    assert book.quote(first.quote_id).customer_details.ship_to.city == "London"  # type: ignore[union-attr]


def test_an_acceptance_names_another_ship_to_a_delivery_date_and_a_shipping_method() -> None:
    book = priced_book()
    lead = qualified("L1", account=account_details(ship_to=OFFICE))
    issued = published(handle(book, lead), "quote.issued")
    out = handle(
        book,
        accept(
            "L1",
            issued.quote_id,
            ship_to=WAREHOUSE,
            requested_delivery_date=date(2026, 12, 15),
            shipping_method="express",
        ),
    )
    accepted = published(out, "quote.accepted")
    assert accepted.customer_details.ship_to == WAREHOUSE
    assert accepted.customer_details.bill_to == OFFICE  # only the ship-to changes
    assert (accepted.requested_delivery_date, accepted.shipping_method) == (
        date(2026, 12, 15),
        "express",
    )
    won = book.changed_quotes[issued.quote_id]
    assert won.state is domain.QuoteState.WON
    assert won.customer_details is not None and won.customer_details.ship_to is not None
    assert won.customer_details.ship_to.city == "Hamburg"


def test_an_acceptance_naming_nothing_keeps_the_snapshot() -> None:
    book = priced_book()
    issued = published(handle(book, qualified("L1", account=account_details())), "quote.issued")
    accepted = published(handle(book, accept("L1", issued.quote_id)), "quote.accepted")
    assert accepted.customer_details == issued.customer_details
    assert (accepted.requested_delivery_date, accepted.shipping_method) == (None, None)


def test_a_quote_issued_before_quotes_carried_details_takes_them_from_the_account_on_accept() -> (
    None
):
    book = priced_book()
    issued = published(handle(book, qualified("L1", account_id=ACCOUNT)), "quote.issued")
    old = book.quotes[issued.quote_id]
    book.quotes[issued.quote_id] = replace(old, customer_details=None)
    handle(book, account_updated(ACCOUNT, 5, account_details(legal_name="Now Ltd")))
    accepted = published(
        handle(book, accept("L1", issued.quote_id, ship_to=WAREHOUSE)), "quote.accepted"
    )
    assert (accepted.customer_details.sold_to, accepted.customer_details.ship_to) == (
        "Now Ltd",
        WAREHOUSE,
    )


def test_a_batch_touches_the_accounts_of_its_leads_and_master_data() -> None:
    batch = [
        Incoming(qualified("L1"), "lead.qualified", 0, 0),
        Incoming(account_updated(ACCOUNT, 1, account_details()), "account.updated", 0, 1),
    ]
    assert touches_of(batch, POLICY, NOW).account_ids == {account_id_of("L1"), ACCOUNT}


def test_a_quote_issued_after_a_renewal_keeps_a_snapshot_per_revision() -> None:
    book = priced_book()
    lead = qualified("L1", account=account_details())
    issued = published(handle(book, lead), "quote.issued")
    later = NOW + timedelta(days=40)  # the quote expired
    out = handle(book, accept("L1", issued.quote_id), now=later)
    assert [o.topic for o in out] == ["quote.closed", "quote.rejected"]
    renewed = published(
        handle(book, revise("L1", issued.quote_id, line("SKU-1001", "1")), now=later),
        "quote.issued",
    )
    assert renewed.customer_details == issued.customer_details


# --- rows ----------------------------------------------------------------------------------


def test_accounts_and_customer_details_survive_their_rows() -> None:
    known = account(
        2,
        name="Acme",
        legal_name="Acme Ltd",
        bill_to=domain.Address(("1 A St", "Floor 2"), "Munich", "DE", "80331", "Bavaria"),
        payment_terms="net_30",
    )
    row = row_from_account(known)
    assert account_from_row(SimpleNamespace(**row)) == known  # type: ignore[arg-type]
    details = domain.customer_snapshot(uuid4(), "x", known)
    assert details_from_json(details_to_json(details)) == details
    assert details_from_json(None) is None
