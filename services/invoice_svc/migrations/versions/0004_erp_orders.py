"""invoice_svc: customer details, customer PO and the ERP's order number on orders; ERP invoices
held under an order's number or the ERP's; acknowledgements read ahead of their order

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 09:00:00.000000

Orders recorded before this revision have no customer details, PO or ERP number (null): their
invoices are posted without them. Held ERP invoices keep naming their order by id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "invoice_svc"
_HELD = "pending_external_invoices"


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("customer_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema=S,
    )
    op.add_column("orders", sa.Column("customer_po", sa.Text(), nullable=True), schema=S)
    op.add_column("orders", sa.Column("erp_order_number", sa.Text(), nullable=True), schema=S)
    op.create_index("ix_orders_order_number", "orders", ["order_number"], schema=S)
    op.create_index("ix_orders_erp_order_number", "orders", ["erp_order_number"], schema=S)

    op.alter_column(_HELD, "order_id", existing_type=sa.Uuid(), nullable=True, schema=S)
    op.add_column(_HELD, sa.Column("order_number", sa.Text(), nullable=True), schema=S)
    op.add_column(_HELD, sa.Column("erp_order_number", sa.Text(), nullable=True), schema=S)
    op.create_index(f"ix_{_HELD}_order_number", _HELD, ["order_number"], schema=S)
    op.create_index(f"ix_{_HELD}_erp_order_number", _HELD, ["erp_order_number"], schema=S)

    op.create_table(
        "acknowledged_ahead",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Text(), nullable=False),
        sa.Column("erp_order_number", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("acknowledged_ahead", schema=S)
    op.drop_index(f"ix_{_HELD}_erp_order_number", table_name=_HELD, schema=S)
    op.drop_index(f"ix_{_HELD}_order_number", table_name=_HELD, schema=S)
    op.drop_column(_HELD, "erp_order_number", schema=S)
    op.drop_column(_HELD, "order_number", schema=S)
    # A claim held under a number only cannot be kept without an order id.
    op.execute(f"DELETE FROM {S}.{_HELD} WHERE order_id IS NULL")
    op.alter_column(_HELD, "order_id", existing_type=sa.Uuid(), nullable=False, schema=S)
    op.drop_index("ix_orders_erp_order_number", table_name="orders", schema=S)
    op.drop_index("ix_orders_order_number", table_name="orders", schema=S)
    op.drop_column("orders", "erp_order_number", schema=S)
    op.drop_column("orders", "customer_po", schema=S)
    op.drop_column("orders", "customer_details", schema=S)
