"""quote_svc: opportunities a person manages (forecast category, close date, competitor) and
several quotes per opportunity (one open revision per quote number, not per opportunity)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12 11:00:00.000000

Opportunities opened before this revision are in the `pipeline` forecast category, with no
close date or competitor recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "quote_svc"
_OPEN = sa.text("state IN ('draft', 'active')")


def upgrade() -> None:
    op.add_column(
        "opportunities",
        sa.Column("forecast_category", sa.Text(), nullable=False, server_default="pipeline"),
        schema=S,
    )
    op.add_column("opportunities", sa.Column("close_date", sa.Date()), schema=S)
    op.add_column("opportunities", sa.Column("competitor", sa.Text()), schema=S)
    op.drop_index("uq_quotes_one_open_per_opportunity", table_name="quotes", schema=S)
    op.drop_constraint("quotes_opportunity_id_revision_key", "quotes", schema=S, type_="unique")
    op.create_index(
        "uq_quotes_one_open_per_quote_number",
        "quotes",
        ["quote_number"],
        unique=True,
        schema=S,
        postgresql_where=_OPEN,
    )
    op.create_index("ix_quotes_opportunity_id", "quotes", ["opportunity_id"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_quotes_opportunity_id", table_name="quotes", schema=S)
    op.drop_index("uq_quotes_one_open_per_quote_number", table_name="quotes", schema=S)
    op.create_unique_constraint(
        "quotes_opportunity_id_revision_key", "quotes", ["opportunity_id", "revision"], schema=S
    )
    op.create_index(
        "uq_quotes_one_open_per_opportunity",
        "quotes",
        ["opportunity_id"],
        unique=True,
        schema=S,
        postgresql_where=_OPEN,
    )
    op.drop_column("opportunities", "competitor", schema=S)
    op.drop_column("opportunities", "close_date", schema=S)
    op.drop_column("opportunities", "forecast_category", schema=S)
