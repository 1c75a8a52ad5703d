"""How the customer details invoice_svc keeps with its copy of an order are stored (JSONB)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.invoice_svc.domain import Address, CustomerDetails


def details_to_json(details: CustomerDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {
        "account_id": str(details.account_id),
        "sold_to": details.sold_to,
        "bill_to": _address_to_json(details.bill_to),
        "ship_to": _address_to_json(details.ship_to),
        "tax_id": details.tax_id,
        "erp_customer_number": details.erp_customer_number,
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
