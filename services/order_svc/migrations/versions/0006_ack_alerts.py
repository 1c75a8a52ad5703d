"""order_svc: when a stale hand-off alert was raised about an order the ERP had not acknowledged

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 10:00:00.000000

Orders confirmed before this revision were never alerted about (null): with the alert enabled,
the first tick after it raises it for those waiting longer than the deployment allows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "order_svc"


def upgrade() -> None:
    op.add_column("orders", sa.Column("ack_alerted_at", sa.DateTime(timezone=True)), schema=S)


def downgrade() -> None:
    op.drop_column("orders", "ack_alerted_at", schema=S)
