"""order_svc: the base currency and the rate of the quote's day on orders, carried from the
accepted quote to order.confirmed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 13:00:00.000000

Orders confirmed before this revision have none (null): their documents carry no base amounts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "order_svc"


def upgrade() -> None:
    op.add_column("orders", sa.Column("base_currency", sa.Text()), schema=S)
    op.add_column("orders", sa.Column("exchange_rate", sa.Numeric()), schema=S)
    op.add_column("orders", sa.Column("rate_date", sa.Date()), schema=S)


def downgrade() -> None:
    op.drop_column("orders", "rate_date", schema=S)
    op.drop_column("orders", "exchange_rate", schema=S)
    op.drop_column("orders", "base_currency", schema=S)
