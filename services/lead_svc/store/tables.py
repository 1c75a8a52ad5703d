"""lead_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import runtime_tables

SCHEMA = "lead_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("email_key", Text),
    Column("name_key", Text),
    Column("company_key", Text),
    Column("profile", JSONB, nullable=False),
    Column("account_id", Uuid),
    Column("account_name", Text),
    Column("account_is_new", Boolean),
    Column("contact_id", Uuid),
    Column("opportunity_id", Uuid, unique=True),
    Column("duplicate_of", Text),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_leads_email_key", "email_key"),
    Index("ix_leads_name_key", "name_key"),
)

# Master data. `name` is the display name (trading name, else legal name); `name_key` its folded
# form qualification matches companies against (NULL for a person's own account). Two accounts
# may share a name (an ERP keeps both); qualification links the older.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text),
    Column("trading_name", Text),
    Column("legal_name", Text),
    Column("tax_id", Text),
    Column("erp_customer_number", Text),
    Column("bill_to", JSONB),
    Column("ship_to", JSONB),
    Column("default_currency", Text),
    Column("payment_terms", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    # Which system (crm, erp) set each field last: {"tax_id": "erp", ...}.
    Column("set_by", JSONB, nullable=False, server_default="{}"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_accounts_name_key", "name_key"),
    # One ERP customer is one account.
    Index(
        "ux_accounts_erp_customer_number",
        "erp_customer_number",
        unique=True,
        postgresql_where=text("erp_customer_number IS NOT NULL"),
    ),
)

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Uuid, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("email_key", Text, unique=True),
    Column("full_name", Text, nullable=False),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("job_title", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_contacts_account_id", "account_id"),
)
