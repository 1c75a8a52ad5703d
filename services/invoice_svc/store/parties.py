"""How the customer details invoice_svc keeps with its copy of an order are stored (JSONB)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.invoice_svc.domain import Address, CustomerDetails
from shared import party_json

details_to_json = party_json.details_to_json


def details_from_json(d: Mapping[str, Any] | None) -> CustomerDetails | None:
    return party_json.details_from_json(d, CustomerDetails, Address)
