"""order_svc: billing terms, quantities invoiced and credited per line, billing status

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000

Orders invoiced before this revision were billed in full by their one invoice (an invoice then
always billed the whole order): they get their ordered quantities as invoiced, and stay
Invoiced. Every other order starts with nothing invoiced; its invoices and credit notes from now
on count.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "order_svc"
# Columns every row needs, with the value existing rows start from. The defaults only fill the
# existing rows: the code always writes them, so they are dropped again (the tables declare none).
_FILLED = (
    ("billing_status", sa.Text(), "'not_invoiced'"),
    ("invoiced", postgresql.JSONB(astext_type=sa.Text()), "'{}'::jsonb"),
    ("credited", postgresql.JSONB(astext_type=sa.Text()), "'{}'::jsonb"),
    ("credit_note_ids", postgresql.JSONB(astext_type=sa.Text()), "'[]'::jsonb"),
)


def upgrade() -> None:
    op.add_column("orders", sa.Column("invoicing_policy", sa.Text(), nullable=True), schema=S)
    op.add_column("orders", sa.Column("down_payment_rate", sa.Numeric(), nullable=True), schema=S)
    for name, type_, default in _FILLED:
        op.add_column(
            "orders",
            sa.Column(name, type_, server_default=sa.text(default), nullable=False),
            schema=S,
        )
    op.execute(
        f"UPDATE {S}.orders SET billing_status = 'fully_invoiced', invoiced = ("
        "SELECT jsonb_object_agg(line->>'line_no', line->>'quantity') "
        "FROM jsonb_array_elements(lines) AS line) "
        "WHERE state = 'invoiced'"
    )
    for name, _, _ in _FILLED:
        op.alter_column("orders", name, server_default=None, schema=S)


def downgrade() -> None:
    for name, _, _ in reversed(_FILLED):
        op.drop_column("orders", name, schema=S)
    op.drop_column("orders", "down_payment_rate", schema=S)
    op.drop_column("orders", "invoicing_policy", schema=S)
