"""invoice_svc: billing by policy, several invoices per order, credit notes, customer credit,
refunds, receivable entries

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:10:00.000000

Existing invoices get their account from their order, and receivable entries for what they asked
and what was paid on them. An invoice voided under the old rules (before credit notes existed)
never asked for anything in the receivables: it gets no entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "invoice_svc"


def _totals() -> list[sa.Column[object]]:
    names = ("subtotal", "discount_total", "net_total", "tax_total", "grand_total")
    return [sa.Column(name, sa.Numeric(), nullable=False) for name in names]


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.add_column("orders", sa.Column("billing", sa.Text()), schema=S)
    op.add_column("orders", sa.Column("down_payment_rate", sa.Numeric()), schema=S)
    for name in ("shipped", "billed"):
        op.add_column(
            "orders", sa.Column(name, jsonb, server_default="{}", nullable=False), schema=S
        )
    op.add_column("orders", sa.Column("down_payment", jsonb), schema=S)

    op.drop_constraint("invoices_order_id_key", "invoices", schema=S, type_="unique")
    op.create_index("ix_invoices_order_id", "invoices", ["order_id"], schema=S)
    op.add_column("invoices", sa.Column("account_id", sa.Uuid()), schema=S)
    op.add_column("invoices", sa.Column("account_name", sa.Text()), schema=S)
    op.add_column(
        "invoices",
        sa.Column("kind", sa.Text(), server_default="standard", nullable=False),
        schema=S,
    )
    for name in ("amount_credited", "credit_applied", "moved_to_credit"):
        op.add_column(
            "invoices", sa.Column(name, sa.Numeric(), server_default="0", nullable=False), schema=S
        )
    for name, default in (("credited_lines", "{}"), ("credited_rates", "{}"), ("deductions", "[]")):
        op.add_column(
            "invoices", sa.Column(name, jsonb, server_default=default, nullable=False), schema=S
        )
    op.create_index("ix_invoices_account_id", "invoices", ["account_id"], schema=S)
    op.execute(
        f"UPDATE {S}.invoices i SET account_id = o.account_id, account_name = o.account_name "
        f"FROM {S}.orders o WHERE o.order_id = i.order_id"
    )

    op.drop_constraint("payments_pkey", "payments", schema=S, type_="primary")
    op.create_primary_key("payments_pkey", "payments", ["payment_id", "invoice_id"], schema=S)

    op.add_column("pending_external_invoices", sa.Column("lines", jsonb), schema=S)
    op.add_column(
        "cancelled_ahead",
        sa.Column("shipped", jsonb, server_default="{}", nullable=False),
        schema=S,
    )

    op.create_table(
        "shipped_ahead",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Text(), nullable=False),
        sa.Column("shipment_ref", sa.Text(), nullable=False),
        sa.Column("shipped", jsonb, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
        schema=S,
    )
    op.create_table(
        "credit_notes",
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("credit_note_number", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Uuid()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_credit_note_id", sa.Text()),
        sa.Column("credit_ref", sa.Text()),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("lines", jsonb, nullable=False),
        sa.Column("order_lines", jsonb, server_default="[]", nullable=False),
        *_totals(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], [f"{S}.invoices.invoice_id"]),
        sa.PrimaryKeyConstraint("credit_note_id"),
        sa.UniqueConstraint("credit_note_number"),
        sa.UniqueConstraint("external_credit_note_id"),
        sa.UniqueConstraint("invoice_id", "credit_ref", name="uq_credit_notes_invoice_ref"),
        schema=S,
    )
    op.create_table(
        "account_credits",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=False),
        sa.Column("balance", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "currency"),
        schema=S,
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.Text()),
        sa.PrimaryKeyConstraint("refund_id"),
        schema=S,
    )
    op.create_table(
        "credit_applications",
        sa.Column("application_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
        schema=S,
    )
    op.create_table(
        "receivable_entries",
        sa.Column("entry_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("document_number", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Uuid()),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date()),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("entry_id"),
        schema=S,
    )
    op.create_index(
        "ix_receivable_entries_account",
        "receivable_entries",
        ["account_id", "currency", "occurred_on"],
        schema=S,
    )
    op.create_index(
        "ix_receivable_entries_invoice_id", "receivable_entries", ["invoice_id"], schema=S
    )
    op.create_table(
        "credit_note_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
        schema=S,
    )
    op.execute(
        f"INSERT INTO {S}.receivable_entries (account_id, currency, kind, document_id, "
        "document_number, invoice_id, amount, occurred_on, due_date) "
        "SELECT account_id, currency, 'invoice', invoice_id::text, invoice_number, invoice_id, "
        f"grand_total, issue_date, due_date FROM {S}.invoices "
        "WHERE state <> 'canceled' AND account_id IS NOT NULL ORDER BY created_at"
    )
    op.execute(
        f"INSERT INTO {S}.receivable_entries (account_id, currency, kind, document_id, "
        "document_number, invoice_id, amount, occurred_on) "
        "SELECT i.account_id, p.currency, 'payment', p.payment_id, p.payment_id, p.invoice_id, "
        f"-p.amount, p.paid_at::date FROM {S}.payments p JOIN {S}.invoices i USING (invoice_id) "
        "WHERE i.state <> 'canceled' AND i.account_id IS NOT NULL ORDER BY p.recorded_at"
    )


def downgrade() -> None:
    for table in (
        "shipped_ahead",
        "credit_note_counters",
        "receivable_entries",
        "credit_applications",
        "refunds",
        "account_credits",
        "credit_notes",
    ):
        op.drop_table(table, schema=S)
    op.drop_column("cancelled_ahead", "shipped", schema=S)
    op.drop_column("pending_external_invoices", "lines", schema=S)
    op.drop_constraint("payments_pkey", "payments", schema=S, type_="primary")
    op.create_primary_key("payments_pkey", "payments", ["payment_id"], schema=S)
    op.drop_index("ix_invoices_account_id", table_name="invoices", schema=S)
    for name in (
        "deductions",
        "credited_rates",
        "credited_lines",
        "moved_to_credit",
        "credit_applied",
        "amount_credited",
        "kind",
        "account_name",
        "account_id",
    ):
        op.drop_column("invoices", name, schema=S)
    op.drop_index("ix_invoices_order_id", table_name="invoices", schema=S)
    op.create_unique_constraint("invoices_order_id_key", "invoices", ["order_id"], schema=S)
    for name in ("down_payment", "billed", "shipped", "down_payment_rate", "billing"):
        op.drop_column("orders", name, schema=S)
