"""invoice_svc: payments held while the order or ERP invoice they name is not known yet

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12 09:00:00.000000

Before this revision such a payment was refused (`unknown_order`, `unknown_invoice`,
`no_invoice`); nothing is held yet, so the table starts empty. Payments refused before the
upgrade are not brought back: the ERP sends them again (the same payment id is a no-op once
recorded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "invoice_svc"
_HELD = "held_payments"


def upgrade() -> None:
    op.create_table(
        _HELD,
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("deal_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("order_number", sa.Text(), nullable=True),
        sa.Column("erp_order_number", sa.Text(), nullable=True),
        sa.Column(
            "allocations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "external_invoice_ids",
            postgresql.ARRAY(sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("command_event_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payment_id"),
        schema=S,
    )
    op.create_index(f"ix_{_HELD}_order_number", _HELD, ["order_number"], schema=S)
    op.create_index(f"ix_{_HELD}_erp_order_number", _HELD, ["erp_order_number"], schema=S)
    op.create_index(
        f"ix_{_HELD}_external_invoice_ids",
        _HELD,
        ["external_invoice_ids"],
        schema=S,
        postgresql_using="gin",
    )


def downgrade() -> None:
    # A payment still held would be lost with the table, unanswered: refuse while any is.
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {S}.{_HELD}) THEN "
        f"RAISE EXCEPTION '{S}.{_HELD} is not empty: payments are still held'; "
        "END IF; END $$"
    )
    op.drop_table(_HELD, schema=S)
