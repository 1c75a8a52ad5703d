"""How the parties an order names are written to its row (JSONB): the customer's contact and the
customer details it carries from its quote, with their addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.order_svc.domain import Address, Contact, CustomerDetails


def contact_to_json(c: Contact) -> dict[str, Any]:
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "job_title": c.job_title,
    }


def _address_to_json(a: Address | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "lines": list(a.lines),
        "city": a.city,
        "postal_code": a.postal_code,
        "region": a.region,
        "country": a.country,
    }


def _address_from_json(d: Mapping[str, Any] | None) -> Address | None:
    if d is None:
        return None
    return Address(
        lines=tuple(d["lines"]),
        city=d["city"],
        country=d["country"],
        postal_code=d.get("postal_code"),
        region=d.get("region"),
    )


def details_to_json(c: CustomerDetails | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "account_id": str(c.account_id),
        "sold_to": c.sold_to,
        "bill_to": _address_to_json(c.bill_to),
        "ship_to": _address_to_json(c.ship_to),
        "tax_id": c.tax_id,
        "erp_customer_number": c.erp_customer_number,
    }


def details_from_json(d: Mapping[str, Any] | None) -> CustomerDetails | None:
    if d is None:
        return None
    return CustomerDetails(
        account_id=UUID(d["account_id"]),
        sold_to=d["sold_to"],
        bill_to=_address_from_json(d.get("bill_to")),
        ship_to=_address_from_json(d.get("ship_to")),
        tax_id=d.get("tax_id"),
        erp_customer_number=d.get("erp_customer_number"),
    )
