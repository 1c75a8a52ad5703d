"""quote_svc: accounts' master data, customer details on quotes, lead lineage on opportunities

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 09:00:00.000000

Quotes issued before this revision have no customer details (null); an acceptance of one takes
them from the account as known then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "quote_svc"


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("legal_name", sa.Text(), nullable=True),
        sa.Column("tax_id", sa.Text(), nullable=True),
        sa.Column("erp_customer_number", sa.Text(), nullable=True),
        sa.Column("bill_to", jsonb, nullable=True),
        sa.Column("ship_to", jsonb, nullable=True),
        sa.Column("default_currency", sa.Text(), nullable=True),
        sa.Column("payment_terms", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("account_id"),
        schema=S,
    )
    op.add_column("quotes", sa.Column("customer_details", jsonb, nullable=True), schema=S)
    for name in ("lead_source", "campaign_id", "notes"):
        op.add_column("opportunities", sa.Column(name, sa.Text(), nullable=True), schema=S)


def downgrade() -> None:
    for name in ("notes", "campaign_id", "lead_source"):
        op.drop_column("opportunities", name, schema=S)
    op.drop_column("quotes", "customer_details", schema=S)
    op.drop_table("accounts", schema=S)
