"""order_svc: customer details and delivery terms on orders, the ERP's number or refusal

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 09:00:00.000000

Orders made before this revision have no customer details or delivery terms (null) and no
answer from the ERP yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "order_svc"
_COLUMNS = (
    ("customer_details", postgresql.JSONB(astext_type=sa.Text())),
    ("requested_delivery_date", sa.Date()),
    ("shipping_method", sa.Text()),
    ("erp_order_number", sa.Text()),
    ("erp_refusal_code", sa.Text()),
    ("erp_refusal_detail", sa.Text()),
)


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("orders", sa.Column(name, type_, nullable=True), schema=S)
    op.create_index("ix_orders_erp_order_number", "orders", ["erp_order_number"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_orders_erp_order_number", table_name="orders", schema=S)
    for name, _ in reversed(_COLUMNS):
        op.drop_column("orders", name, schema=S)
