"""Rows of quote_svc's customer data: the accounts' master data, and the customer details a quote
carries (JSONB), with their addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import TextClause

from services.quote_svc.domain import Account, Address, CustomerDetails
from services.quote_svc.store.tables import SCHEMA, accounts
from shared import party_json

_ACCOUNT_COLUMNS = (
    "account_id",
    "version",
    "name",
    "legal_name",
    "tax_id",
    "erp_customer_number",
    "bill_to",
    "ship_to",
    "default_currency",
    "payment_terms",
)


def _upsert_accounts() -> TextClause:
    names = ", ".join(_ACCOUNT_COLUMNS)
    values = ", ".join(f":{c}" for c in _ACCOUNT_COLUMNS)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in _ACCOUNT_COLUMNS[1:])
    # Newest version wins in the database too: two members briefly sharing a partition during a
    # rebalance each decided against what they read, and the older write must not land last.
    # Version 0 (a lead's details) so replaces only version 0.
    sql = (
        f"INSERT INTO {SCHEMA}.accounts AS a ({names}) VALUES ({values}) "  # noqa: S608 - a constant schema name
        f"ON CONFLICT (account_id) DO UPDATE SET {sets}, updated_at = now() "
        "WHERE a.version <= EXCLUDED.version"
    )
    binds = [bindparam(c, type_=accounts.c[c].type) for c in _ACCOUNT_COLUMNS]
    return text(sql).bindparams(*binds)


UPSERT_ACCOUNTS = _upsert_accounts()


def row_from_account(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "version": account.version,
        "name": account.name,
        "legal_name": account.legal_name,
        "tax_id": account.tax_id,
        "erp_customer_number": account.erp_customer_number,
        "bill_to": party_json.address_to_json(account.bill_to),
        "ship_to": party_json.address_to_json(account.ship_to),
        "default_currency": account.default_currency,
        "payment_terms": account.payment_terms,
    }


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        account_id=row.account_id,
        version=row.version,
        name=row.name,
        legal_name=row.legal_name,
        tax_id=row.tax_id,
        erp_customer_number=row.erp_customer_number,
        bill_to=party_json.address_from_json(row.bill_to, Address),
        ship_to=party_json.address_from_json(row.ship_to, Address),
        default_currency=row.default_currency,
        payment_terms=row.payment_terms,
    )


details_to_json = party_json.details_to_json


def details_from_json(d: Mapping[str, Any] | None) -> CustomerDetails | None:
    return party_json.details_from_json(d, CustomerDetails, Address)
