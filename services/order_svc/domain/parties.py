"""Who the order is for and where it goes: the customer details it carries from its quote (a
snapshot of the account taken when the quote was issued), with their addresses.

Pure: standard library only. The order does not read the account again: what the customer
accepted is what the ERP books, and only a correction after the ERP refused it changes the
delivery address (`erp.resubmit`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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

    def shipping_to(self, ship_to: Address | None) -> CustomerDetails:
        """These details with another delivery address (None: unchanged)."""
        return self if ship_to is None else replace(self, ship_to=ship_to)
