"""The stored (JSONB) form of a postal address and of a document's customer details.

Each stage's domain has its own `Address` and `CustomerDetails` dataclasses (stages share no
domain code), all with the fields of `contracts.parties`; so their stored form is written once
here, generic over the classes a store passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar
from uuid import UUID

A = TypeVar("A")
D = TypeVar("D")


class AddressFields(Protocol):
    @property
    def lines(self) -> tuple[str, ...]: ...
    @property
    def city(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def postal_code(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...


class DetailsFields(Protocol):
    @property
    def account_id(self) -> UUID: ...
    @property
    def sold_to(self) -> str: ...
    @property
    def bill_to(self) -> AddressFields | None: ...
    @property
    def ship_to(self) -> AddressFields | None: ...
    @property
    def tax_id(self) -> str | None: ...
    @property
    def erp_customer_number(self) -> str | None: ...


def address_to_json(address: AddressFields | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "lines": list(address.lines),
        "city": address.city,
        "postal_code": address.postal_code,
        "region": address.region,
        "country": address.country,
    }


def address_from_json(d: Mapping[str, Any] | None, address: Callable[..., A]) -> A | None:
    if d is None:
        return None
    return address(
        lines=tuple(d["lines"]),
        city=d["city"],
        country=d["country"],
        postal_code=d.get("postal_code"),
        region=d.get("region"),
    )


def details_to_json(details: DetailsFields | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {
        "account_id": str(details.account_id),
        "sold_to": details.sold_to,
        "bill_to": address_to_json(details.bill_to),
        "ship_to": address_to_json(details.ship_to),
        "tax_id": details.tax_id,
        "erp_customer_number": details.erp_customer_number,
    }


def details_from_json(
    d: Mapping[str, Any] | None, details: Callable[..., D], address: Callable[..., A]
) -> D | None:
    if d is None:
        return None
    return details(
        account_id=UUID(d["account_id"]),
        sold_to=d["sold_to"],
        bill_to=address_from_json(d.get("bill_to"), address),
        ship_to=address_from_json(d.get("ship_to"), address),
        tax_id=d.get("tax_id"),
        erp_customer_number=d.get("erp_customer_number"),
    )
