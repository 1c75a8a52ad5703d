"""invoice_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.counters import counter_table
from shared.db import runtime_tables

SCHEMA = "invoice_svc"
metadata = MetaData(schema=SCHEMA)
inbox, outbox = runtime_tables(metadata, SCHEMA)

TOTALS = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")


def _totals_columns() -> list[Column[Any]]:
    return [Column(name, Numeric, nullable=False) for name in TOTALS]


orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("order_number", Text, nullable=False),
    Column("quote_id", Uuid, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    *_totals_columns(),
    Column("payment_terms", Text, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("state", Text, nullable=False),
    Column("cancel_reason", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", Uuid, primary_key=True),
    Column("invoice_number", Text, nullable=False, unique=True),
    # The second line of defence behind the domain's checks: one invoice per order in either
    # mode, one invoice per ERP invoice.
    Column("order_id", Uuid, nullable=False, unique=True),
    Column("external_invoice_id", Text, unique=True),
    Column("deal_id", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("payment_status", Text),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    *_totals_columns(),
    Column("amount_paid", Numeric, nullable=False),
    Column("balance_due", Numeric, nullable=False),
    Column("payment_terms", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("cancel_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", Text, primary_key=True),
    Column("invoice_id", Uuid, ForeignKey(invoices.c.invoice_id), nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("method", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_payments_invoice_id", "invoice_id"),
)

pending_external_invoices = Table(
    "pending_external_invoices",
    metadata,
    Column("external_invoice_id", Text, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("invoice_number", Text, nullable=False),
    Column("currency", Text, nullable=False),
    *_totals_columns(),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("command_event_id", Uuid, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_pending_external_invoices_order_id", "order_id"),
)

# An order.cancelled read before its order.confirmed: the two travel on different topics, so a
# consumer can read them in either order (a restart re-reading a backlog, or the two partitions
# held by different members). Kept until the confirmation arrives, which then posts no invoice.
cancelled_ahead = Table(
    "cancelled_ahead",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("deal_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Gap-free invoice numbers: see shared.counters.
invoice_counters = counter_table("invoice_counters", metadata)
