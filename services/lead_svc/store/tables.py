"""lead_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, MetaData, Table, Text, Uuid, func
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

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Uuid, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("email_key", Text, unique=True),
    Column("full_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
