"""Builders of customer data for tests: addresses, accounts' master data, customer details."""

from __future__ import annotations

from uuid import UUID

from contracts.parties import AccountDetails, Address, CustomerDetails


def address(street: str = "12 Engine Street", city: str = "London", country: str = "GB") -> Address:
    return Address(lines=(street,), city=city, postal_code="EC1A 1BB", country=country)


def account_details(
    *,
    name: str | None = "Analytical Engines",
    legal_name: str | None = "Analytical Engines Ltd",
    ship_to: Address | None = None,
    bill_to: Address | None = None,
    tax_id: str | None = "GB123456789",
    erp_customer_number: str | None = "C-10042",
) -> AccountDetails:
    return AccountDetails(
        name=name,
        legal_name=legal_name,
        tax_id=tax_id,
        erp_customer_number=erp_customer_number,
        bill_to=bill_to or address("1 Counting House Lane"),
        ship_to=ship_to or address(),
    )


def customer_details(
    account_id: UUID,
    *,
    sold_to: str = "Analytical Engines Ltd",
    ship_to: Address | None = None,
) -> CustomerDetails:
    return CustomerDetails(
        account_id=account_id,
        sold_to=sold_to,
        bill_to=address("1 Counting House Lane"),
        ship_to=ship_to or address(),
        tax_id="GB123456789",
        erp_customer_number="C-10042",
    )
