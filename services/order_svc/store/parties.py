"""How the parties an order names are written to its row (JSONB): the customer's contact and the
customer details it carries from its quote, with their addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.order_svc.domain import Address, Contact, CustomerDetails
from shared import party_json


def contact_to_json(c: Contact) -> dict[str, Any]:
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "job_title": c.job_title,
    }


details_to_json = party_json.details_to_json


def details_from_json(d: Mapping[str, Any] | None) -> CustomerDetails | None:
    return party_json.details_from_json(d, CustomerDetails, Address)
