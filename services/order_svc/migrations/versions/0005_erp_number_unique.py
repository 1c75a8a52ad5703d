"""order_svc: one order per ERP order number (a partial UNIQUE index)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12 09:00:00.000000

`erp_number_in_use` is checked when an acknowledgement is decided, against the orders the
batch loaded under that number; for a new number no row exists, so nothing is locked, and two
acknowledgements on different partitions could both record it. The index is the second line of
defence: the later commit fails, its batch is replayed message by message, and the replay
refuses it `erp_number_in_use`. The upgrade stops, naming them, if two orders already share a
number: which of them the ERP meant is for a person to settle (clear one, then upgrade).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "order_svc"
_SHARED = sa.text(
    "SELECT erp_order_number, array_agg(order_number ORDER BY order_number) AS orders "
    f"FROM {S}.orders WHERE erp_order_number IS NOT NULL "
    "GROUP BY erp_order_number HAVING count(*) > 1 ORDER BY erp_order_number"
)


def upgrade() -> None:
    shared = op.get_bind().execute(_SHARED).all()
    if shared:
        found = "; ".join(f"{row.erp_order_number}: {', '.join(row.orders)}" for row in shared)
        raise RuntimeError(f"ERP order numbers shared by several orders ({found})")
    op.drop_index("ix_orders_erp_order_number", table_name="orders", schema=S)
    op.create_index(
        "uq_orders_erp_order_number",
        "orders",
        ["erp_order_number"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("erp_order_number IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_orders_erp_order_number", table_name="orders", schema=S)
    op.create_index("ix_orders_erp_order_number", "orders", ["erp_order_number"], schema=S)
