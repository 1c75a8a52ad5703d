"""Who an order is for and where it goes, as invoice_svc keeps it with its copy of the order and
prints it on the order's invoices: the customer details the order carried from its quote.

Pure: standard library only. Carried, never decided on: the invoice says what the order said.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as ERPs store it: 1-4 street lines, city, ISO 3166 country."""

    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """Sold-to, bill-to, ship-to, tax id and ERP customer number of the order."""

    account_id: UUID
    sold_to: str
    bill_to: Address | None = None
    ship_to: Address | None = None
    tax_id: str | None = None
    erp_customer_number: str | None = None
