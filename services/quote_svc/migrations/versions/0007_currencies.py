"""quote_svc: exchange rates from the ERP, qualifications waiting for a rate, and the base
currency, rate and rate date a quote takes on issue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 13:00:00.000000

Quotes issued before this revision have no base currency or rate (null): their documents carry
no base amounts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "quote_svc"


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("from_currency", sa.Text(), nullable=False),
        sa.Column("to_currency", sa.Text(), nullable=False),
        sa.Column("valid_on", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("from_currency", "to_currency", "valid_on"),
        schema=S,
    )
    op.create_table(
        "waiting_qualifications",
        sa.Column("lead_id", sa.Text(), nullable=False),
        sa.Column("from_currency", sa.Text(), nullable=False),
        sa.Column("to_currency", sa.Text(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lead_id"),
        schema=S,
    )
    op.add_column("quotes", sa.Column("base_currency", sa.Text()), schema=S)
    op.add_column("quotes", sa.Column("exchange_rate", sa.Numeric()), schema=S)
    op.add_column("quotes", sa.Column("rate_date", sa.Date()), schema=S)


def downgrade() -> None:
    op.drop_column("quotes", "rate_date", schema=S)
    op.drop_column("quotes", "exchange_rate", schema=S)
    op.drop_column("quotes", "base_currency", schema=S)
    op.drop_table("waiting_qualifications", schema=S)
    op.drop_table("exchange_rates", schema=S)
