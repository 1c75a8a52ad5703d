"""invoice_svc: when a stale hand-off alert was raised about a held ERP invoice

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 10:00:00.000000

ERP invoices held before this revision were never alerted about (null): the first tick after it
raises the alert for those held longer than the deployment allows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "invoice_svc"


def upgrade() -> None:
    op.add_column(
        "pending_external_invoices",
        sa.Column("alerted_at", sa.DateTime(timezone=True)),
        schema=S,
    )


def downgrade() -> None:
    op.drop_column("pending_external_invoices", "alerted_at", schema=S)
