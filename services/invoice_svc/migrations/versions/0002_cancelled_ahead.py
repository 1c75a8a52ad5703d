"""invoice_svc: cancellations read before their order (cancelled_ahead)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cancelled_ahead",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
        schema="invoice_svc",
    )


def downgrade() -> None:
    op.drop_table("cancelled_ahead", schema="invoice_svc")
