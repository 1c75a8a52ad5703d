"""quote_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.counters import counter_table
from shared.db import runtime_tables

SCHEMA = "quote_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

opportunities = Table(
    "opportunities",
    metadata,
    # The opportunity id is minted by lead_svc and is the natural key of a qualified lead's
    # opportunity: a concurrent second insert fails here instead of opening it twice.
    Column("opportunity_id", Uuid, primary_key=True),
    Column("lead_id", Text, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("contact", JSONB, nullable=False),
    Column("currency", Text, nullable=False),
    Column("estimated_revenue", Numeric, nullable=False),
    Column("revenue_given", Boolean, nullable=False),
    Column("estimated_close_date", Date, nullable=False),
    Column("probability", Integer, nullable=False),
    Column("pipeline_phase", Text, nullable=False),
    Column("actual_revenue", Numeric),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    # The lead's lineage, kept for reporting (and an opportunity event that may carry it).
    Column("lead_source", Text),
    Column("campaign_id", Text),
    Column("notes", Text),
    # What a person sets and records on closing (opportunity commands).
    Column("forecast_category", Text, nullable=False, server_default="pipeline"),
    Column("close_date", Date),
    Column("competitor", Text),
)

quotes = Table(
    "quotes",
    metadata,
    Column("quote_id", Uuid, primary_key=True),
    Column(
        "opportunity_id",
        Uuid,
        ForeignKey(f"{SCHEMA}.opportunities.opportunity_id"),
        nullable=False,
    ),
    Column("lead_id", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("quote_number", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("price_list_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("totals", JSONB, nullable=False),
    Column("payment_terms", Text),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("customer_po", Text),
    Column("accepted_by", Text),
    Column("accepted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    # Sold-to, bill-to, ship-to, tax id, ERP customer number as the account was when this
    # (none_as_null: absent is SQL NULL, not JSON null, so that `IS NULL` finds it.)
    # revision was issued (null: a draft, or issued before quotes carried them).
    Column("customer_details", JSONB(none_as_null=True)),
    # A quote-level discount: the rate asked, and the amount it came to (in the lines).
    Column("quote_discount_rate", Numeric),
    Column("quote_discount_amount", Numeric),
    # Taken on issue: the base currency, the rate of the day to it, and that day.
    Column("base_currency", Text),
    Column("exchange_rate", Numeric),
    Column("rate_date", Date),
    UniqueConstraint("quote_number", "revision"),
    # An opportunity may have several quotes (each its own number); at most one open (Draft or
    # Active) revision per quote: what every decision assumes.
    Index(
        "uq_quotes_one_open_per_quote_number",
        "quote_number",
        unique=True,
        postgresql_where=text("state IN ('draft', 'active')"),
    ),
    Index("ix_quotes_opportunity_id", "opportunity_id"),
    # What a tick looks for: the Active quotes past their validity.
    Index(
        "ix_quotes_active_valid_until",
        "valid_until",
        postgresql_where=text("state = 'active'"),
    ),
)

price_list_items = Table(
    "price_list_items",
    metadata,
    Column("price_list_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("unit_price", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("tax_rate", Numeric, nullable=False),
    Column("unit", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The ERP's volume discount lists (catalog.volume_discounts, compacted): the latest per item.
volume_discounts = Table(
    "volume_discounts",
    metadata,
    Column("price_list_id", Text, primary_key=True),
    Column("sku", Text, primary_key=True),
    # [[min_quantity, rate], ...] as strings, ascending
    Column("tiers", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The ERP's exchange rates (fx.rates, compacted by pair and day): every day's rate.
exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("from_currency", Text, primary_key=True),
    Column("to_currency", Text, primary_key=True),
    Column("valid_on", Date, primary_key=True),
    Column("rate", Numeric, nullable=False),
)

# Qualified leads whose amounts need a rate not published yet: the lead.qualified envelope as
# received, opened when the ERP publishes a rate of the pair.
waiting_qualifications = Table(
    "waiting_qualifications",
    metadata,
    Column("lead_id", Text, primary_key=True),
    Column("from_currency", Text, nullable=False),
    Column("to_currency", Text, nullable=False),
    Column("envelope", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# The local copy of accounts' master data (lead_svc owns it): the newest `account.updated`
# version, or (version 0) what a qualified lead brought before any was read.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", Text),
    Column("legal_name", Text),
    Column("tax_id", Text),
    Column("erp_customer_number", Text),
    Column("bill_to", JSONB(none_as_null=True)),
    Column("ship_to", JSONB(none_as_null=True)),
    Column("default_currency", Text),
    Column("payment_terms", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Gap-free quote numbers: see shared.counters.
quote_counters = counter_table("quote_counters", metadata)
