"""invoice_svc: dunning state on invoices (overdue_on, dunning_level) and an index of the
invoices still asking for money by due date, for ticks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 09:00:00.000000

Invoices posted before this revision were never announced overdue (null) and had no reminder
(level 0): the first tick after it finds those past due and announces them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "invoice_svc"


def upgrade() -> None:
    op.add_column("invoices", sa.Column("overdue_on", sa.Date()), schema=S)
    op.add_column(
        "invoices",
        sa.Column("dunning_level", sa.Integer(), nullable=False, server_default="0"),
        schema=S,
    )
    op.create_index(
        "ix_invoices_open_due_date",
        "invoices",
        ["due_date"],
        schema=S,
        postgresql_where=sa.text("balance_due > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_open_due_date", table_name="invoices", schema=S)
    op.drop_column("invoices", "dunning_level", schema=S)
    op.drop_column("invoices", "overdue_on", schema=S)
