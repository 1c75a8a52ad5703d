"""Customers as quote_svc knows them: the local copy of each account's master data, and the
snapshot of it a quote takes when it is issued.

Pure: standard library only. Master data belongs to lead_svc (which keeps it in step with the
CRM and the ERP, contracts/accounts.py); quote_svc only reads it, from two sources:
- `account.updated`, the full record after each change, with a version that grows with every
  change: the newest version wins, an older or equal one changes nothing (a redelivery, or a
  replay of the compacted topic);
- the account details a qualified lead carries, with their version (`account_version`, the
  version of account.updated they are): compared like any other version, so details newer than
  the copy held (an account.updated partition lagging behind the lead) replace it, and older
  ones change nothing. A lead from a producer that gives no version is kept as version 0
  (`FROM_LEAD`): it fills in an account no `account.updated` was read for yet, and never
  replaces a versioned record. The `account.updated` of the same change, on its own topic, may
  be read before or after the lead; either way the newest version wins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

# The version given to the account details a qualified lead carries without one (account.updated
# starts at 1).
FROM_LEAD = 0


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as ERPs store it: 1-4 street lines, city, ISO 3166 country."""

    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """An account's master data as last read; every detail may be unknown (None)."""

    account_id: UUID
    version: int
    name: str | None = None
    legal_name: str | None = None
    tax_id: str | None = None
    erp_customer_number: str | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    default_currency: str | None = None
    payment_terms: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """Who buys, who pays, where it goes: what a quote carries, and the order and invoice after
    it. A snapshot: a later change of the account does not change an issued quote."""

    account_id: UUID
    sold_to: str
    bill_to: Address | None = None
    ship_to: Address | None = None
    tax_id: str | None = None
    erp_customer_number: str | None = None

    def shipping_to(self, ship_to: Address | None) -> CustomerDetails:
        """These details with another delivery address (None: unchanged)."""
        return self if ship_to is None else replace(self, ship_to=ship_to)


@dataclass(frozen=True, slots=True)
class DeliveryTerms:
    """What the customer asked for on accepting: another delivery address than the account's,
    a delivery date, a shipping method. Travels with the acceptance to `quote.accepted`; the
    ship-to also replaces the one on the won quote's customer details."""

    ship_to: Address | None = None
    requested_delivery_date: date | None = None
    shipping_method: str | None = None


def newer_account(known: Account | None, incoming: Account) -> Account | None:
    """The record to keep when `incoming` is read, or None when it changes nothing.

    Versioned records (account.updated, or a lead's details with their version) replace older
    ones; a lead's unversioned details fill in only an account known from unversioned leads
    alone (the latest lead then wins).
    """
    if known is None:
        return incoming
    if incoming.version == FROM_LEAD:
        return incoming if known.version == FROM_LEAD and incoming != known else None
    return incoming if incoming.version > known.version else None


def customer_snapshot(
    account_id: UUID, account_name: str, account: Account | None
) -> CustomerDetails:
    """The customer details of a quote issued now, from what is known of its account.

    Sold-to is the registered legal name when the ERP gave one, else the account's name, else
    the name the opportunity was opened under.
    """
    if account is None:
        return CustomerDetails(account_id=account_id, sold_to=account_name)
    return CustomerDetails(
        account_id=account_id,
        sold_to=account.legal_name or account.name or account_name,
        bill_to=account.bill_to,
        ship_to=account.ship_to,
        tax_id=account.tax_id,
        erp_customer_number=account.erp_customer_number,
    )
