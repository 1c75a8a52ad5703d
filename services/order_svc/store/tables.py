"""order_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.counters import counter_table
from shared.db import runtime_tables

SCHEMA = "order_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    # Second line of defence behind the deterministic order id: one order per accepted quote.
    Column("quote_id", Uuid, nullable=False, unique=True),
    Column("order_number", Text, nullable=False, unique=True),
    Column("quote_number", Text, nullable=False),
    Column("quote_revision", Integer, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("completeness", Text),
    Column("opportunity_id", Uuid, nullable=False),
    Column("lead_id", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("contact_id", Uuid, nullable=False),
    Column("contact", JSONB, nullable=False),
    Column("price_list_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    # Unconstrained NUMERIC keeps each amount's scale: 226.10 reads back as 226.10, not 226.1000.
    Column("subtotal", Numeric, nullable=False),
    Column("discount_total", Numeric, nullable=False),
    Column("net_total", Numeric, nullable=False),
    Column("tax_total", Numeric, nullable=False),
    Column("grand_total", Numeric, nullable=False),
    Column("payment_terms", Text, nullable=False),
    Column("customer_po", Text),
    Column("shipped", JSONB, nullable=False),
    Column("shipment_refs", JSONB, nullable=False),
    Column("invoices", JSONB, nullable=False),
    Column("invoice_id", Uuid),
    Column("invoice_number", Text),
    Column("cancel_reason", Text),
    # Billing terms the customer agreed on accepting; NULL: the deployment's default.
    Column("invoicing_policy", Text),
    Column("down_payment_rate", Numeric),
    # Derived from the quantities below, like `completeness` from `shipped`: kept for queries.
    Column("billing_status", Text, nullable=False),
    Column("invoiced", JSONB, nullable=False),
    Column("credited", JSONB, nullable=False),
    Column("credit_note_ids", JSONB, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Who and where, from the quote (null: orders made before quotes carried them); delivery.
    # (none_as_null: absent is SQL NULL, not JSON null, so that `IS NULL` finds it.)
    Column("customer_details", JSONB(none_as_null=True)),
    Column("requested_delivery_date", Date),
    Column("shipping_method", Text),
    # The ERP's answer: its own order number once it booked the order (`salesflow trace`
    # and ERP documents find the order by it), or why it refused it, while that is pending.
    Column("erp_order_number", Text),
    Column("erp_refusal_code", Text),
    Column("erp_refusal_detail", Text),
    # When a tick raised the alert that the ERP had not acknowledged it in time (once).
    Column("ack_alerted_at", DateTime(timezone=True)),
    # From the quote: the base currency and the rate of its day (null: before orders had it).
    Column("base_currency", Text),
    Column("exchange_rate", Numeric),
    Column("rate_date", Date),
    Index("ix_orders_deal_id", "deal_id"),
    # One order per ERP number: the second line of defence behind `erp_number_in_use`, which
    # a new number cannot lock (two acknowledgements on two partitions; migration 0005).
    Index(
        "uq_orders_erp_order_number",
        "erp_order_number",
        unique=True,
        postgresql_where=text("erp_order_number IS NOT NULL"),
    ),
)

# Gap-free order numbers: see shared.counters.
order_counters = counter_table("order_counters", metadata)
