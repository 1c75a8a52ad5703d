"""The stored form of addresses and customer details (shared.party_json), per stage's classes."""

from __future__ import annotations

from uuid import uuid4

from services.invoice_svc.store.parties import details_from_json as invoice_details
from services.order_svc.domain import Address, CustomerDetails
from services.order_svc.store.parties import details_from_json, details_to_json


def test_customer_details_round_trip_and_read_back_by_another_stage() -> None:
    details = CustomerDetails(
        account_id=uuid4(),
        sold_to="ACME",
        bill_to=Address(("1 Main St", "Floor 2"), "Lyon", "FR", postal_code="69001"),
        ship_to=None,
        tax_id="FR123",
    )
    stored = details_to_json(details)
    assert stored is not None
    assert stored["bill_to"]["lines"] == ["1 Main St", "Floor 2"]
    assert details_from_json(stored) == details
    other = invoice_details(stored)
    assert other is not None
    assert other.bill_to is not None
    assert (other.sold_to, other.bill_to.city, other.bill_to.region) == ("ACME", "Lyon", None)
    assert details_to_json(None) is None
    assert details_from_json(None) is None
