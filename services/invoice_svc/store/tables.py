"""invoice_svc's tables in its own PostgreSQL schema (plus the runtime's inbox and outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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
    # How it is billed (null: the deployment's default) and how far: shipped quantities per
    # line, billed pieces per line (quantity, amounts, credited quantity), the down payment.
    Column("billing", Text),
    Column("down_payment_rate", Numeric),
    Column("shipped", JSONB, nullable=False, server_default="{}"),
    Column("billed", JSONB, nullable=False, server_default="{}"),
    Column("down_payment", JSONB),
    # Printed on its invoices (null: confirmed before orders carried them).
    # (none_as_null: absent is SQL NULL, not JSON null, so that `IS NULL` finds it.)
    Column("customer_details", JSONB(none_as_null=True)),
    Column("customer_po", Text),
    # The ERP's own number (order.acknowledged): ERP invoices and payments may name it.
    Column("erp_order_number", Text),
    # The base currency and the rate of the quote's day (null: confirmed before orders had it).
    Column("base_currency", Text),
    Column("exchange_rate", Numeric),
    Column("rate_date", Date),
    Index("ix_orders_order_number", "order_number"),
    Index("ix_orders_erp_order_number", "erp_order_number"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", Uuid, primary_key=True),
    Column("invoice_number", Text, nullable=False, unique=True),
    # An order may have several invoices (shipments, a down payment, ERP invoices for parts of
    # it); the second line of defence behind the domain's checks is one invoice per ERP
    # invoice, per number, and per derived id (order, shipment).
    Column("order_id", Uuid, nullable=False),
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
    Column("account_id", Uuid),
    Column("account_name", Text),
    Column("kind", Text, nullable=False, server_default="standard"),
    Column("amount_credited", Numeric, nullable=False, server_default="0"),
    Column("credit_applied", Numeric, nullable=False, server_default="0"),
    Column("moved_to_credit", Numeric, nullable=False, server_default="0"),
    Column("credited_lines", JSONB, nullable=False, server_default="{}"),
    Column("credited_rates", JSONB, nullable=False, server_default="{}"),
    Column("deductions", JSONB, nullable=False, server_default="[]"),
    # Dunning: when a tick announced it overdue, and the highest reminder level sent.
    Column("overdue_on", Date),
    Column("dunning_level", Integer, nullable=False, server_default="0"),
    Index("ix_invoices_order_id", "order_id"),
    Index("ix_invoices_account_id", "account_id"),
    # What a tick looks for: invoices still asking for money, by due date.
    Index("ix_invoices_open_due_date", "due_date", postgresql_where=text("balance_due > 0")),
)

# A payment id is recorded once per invoice it settles (several, when one payment was spread
# over invoices); the same id on other invoices is refused (`payment_id_reused`).
payments = Table(
    "payments",
    metadata,
    Column("payment_id", Text, nullable=False),
    Column("invoice_id", Uuid, ForeignKey(invoices.c.invoice_id), nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("method", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("payment_id", "invoice_id"),
    Index("ix_payments_invoice_id", "invoice_id"),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("credit_note_id", Uuid, primary_key=True),
    Column("credit_note_number", Text, nullable=False, unique=True),
    Column("invoice_id", Uuid, ForeignKey(invoices.c.invoice_id), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("deal_id", Text, nullable=False),
    Column("account_id", Uuid),
    Column("source", Text, nullable=False),
    Column("external_credit_note_id", Text, unique=True),
    Column("credit_ref", Text),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("order_lines", JSONB, nullable=False, server_default="[]"),
    *_totals_columns(),
    Column("reason", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A requester's credit (its credit_ref) is issued once per invoice.
    UniqueConstraint("invoice_id", "credit_ref", name="uq_credit_notes_invoice_ref"),
)

# Money a customer has with us beyond what its invoices ask (overpaid, credited after paying).
account_credits = Table(
    "account_credits",
    metadata,
    Column("account_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("balance", Numeric, nullable=False),
    PrimaryKeyConstraint("account_id", "currency"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", Text, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("refunded_at", DateTime(timezone=True), nullable=False),
    Column("method", Text),
)

credit_applications = Table(
    "credit_applications",
    metadata,
    Column("application_id", Text, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# Receivables: every change of what an account owes, in the transaction of the document or
# payment that made it. amount > 0 asks more (an invoice, a refund paid out), < 0 settles (a
# credit note, a payment). invoice_id null: the account's customer credit. `to_credit` and
# `credit_applied` come in pairs that sum to zero (money moved between an invoice and the
# credit). So, per account and currency and as of any date: outstanding = sum(amount) =
# invoiced - credited - paid + refunded; an invoice's open amount = sum over its invoice_id.
receivable_entries = Table(
    "receivable_entries",
    metadata,
    Column("entry_id", BigInteger, Identity(always=False), primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("document_id", Text, nullable=False),
    Column("document_number", Text, nullable=False),
    Column("invoice_id", Uuid),
    Column("amount", Numeric, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("due_date", Date),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_receivable_entries_account", "account_id", "currency", "occurred_on"),
    Index("ix_receivable_entries_invoice_id", "invoice_id"),
)

# An ERP invoice naming an order not known yet, by any of its names (at least one is set).
pending_external_invoices = Table(
    "pending_external_invoices",
    metadata,
    Column("external_invoice_id", Text, primary_key=True),
    Column("order_id", Uuid),
    Column("deal_id", Text, nullable=False),
    Column("invoice_number", Text, nullable=False),
    Column("currency", Text, nullable=False),
    *_totals_columns(),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("command_event_id", Uuid, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # When a tick raised the stale hand-off alert about it (once); null: not yet.
    Column("alerted_at", DateTime(timezone=True)),
    Column("lines", JSONB),  # null: the whole unbilled order
    Column("order_number", Text),
    Column("erp_order_number", Text),
    Index("ix_pending_external_invoices_order_id", "order_id"),
    Index("ix_pending_external_invoices_order_number", "order_number"),
    Index("ix_pending_external_invoices_erp_order_number", "erp_order_number"),
)

# A payment naming an order or ERP invoices not known yet (domain.decisions.remittances): held
# under the names it gave (salesflow's order number, the ERP's, the ERP invoice ids) until they
# are known, then recorded or refused in that transaction. One row per payment id.
held_payments = Table(
    "held_payments",
    metadata,
    Column("payment_id", Text, primary_key=True),
    Column("deal_id", Text, nullable=False),
    Column("amount", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("method", Text),
    Column("order_number", Text),
    Column("erp_order_number", Text),
    # [[invoice id or null, ERP invoice id or null, amount], ...]; [] when it names an order
    Column("allocations", JSONB, nullable=False, server_default="[]"),
    # The ERP invoice ids among them, for the lookup by what was just posted (GIN, overlap).
    Column("external_invoice_ids", ARRAY(Text), nullable=False, server_default="{}"),
    Column("command_event_id", Uuid, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_held_payments_order_number", "order_number"),
    Index("ix_held_payments_erp_order_number", "erp_order_number"),
    Index(
        "ix_held_payments_external_invoice_ids",
        "external_invoice_ids",
        postgresql_using="gin",
    ),
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
    Column("shipped", JSONB, nullable=False, server_default="{}"),
)

# An order.fulfilled read before its order.confirmed (another topic, same race as above): the
# shipped totals so far (only growing) and the latest shipment, billed when the order arrives.
shipped_ahead = Table(
    "shipped_ahead",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("deal_id", Text, nullable=False),
    Column("shipment_ref", Text, nullable=False),
    Column("shipped", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# An order.acknowledged read before its order.confirmed (another topic, same race as above): the
# ERP's number, given to the order when it arrives.
acknowledged_ahead = Table(
    "acknowledged_ahead",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("deal_id", Text, nullable=False),
    Column("erp_order_number", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Gap-free invoice and credit note numbers, each its own sequence: see shared.counters.
invoice_counters = counter_table("invoice_counters", metadata)
credit_note_counters = counter_table("credit_note_counters", metadata)
