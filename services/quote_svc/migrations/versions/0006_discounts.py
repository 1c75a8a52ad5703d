"""quote_svc: volume discount lists from the ERP, and a quote-level discount on quotes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 12:00:00.000000

Quotes issued before this revision have no quote-level discount (null); their lines' discounts
are what they were.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "quote_svc"


def upgrade() -> None:
    op.create_table(
        "volume_discounts",
        sa.Column("price_list_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("tiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("price_list_id", "sku"),
        schema=S,
    )
    op.add_column("quotes", sa.Column("quote_discount_rate", sa.Numeric()), schema=S)
    op.add_column("quotes", sa.Column("quote_discount_amount", sa.Numeric()), schema=S)


def downgrade() -> None:
    op.drop_column("quotes", "quote_discount_amount", schema=S)
    op.drop_column("quotes", "quote_discount_rate", schema=S)
    op.drop_table("volume_discounts", schema=S)
