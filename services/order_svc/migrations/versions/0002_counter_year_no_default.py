"""order_svc: order_counters.year without the serial default

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0001 made `year` an integer primary key, which PostgreSQL turns into a serial. A year is
    # always given (shared.counters inserts it): a default drawn from a sequence would only hide
    # a missing year behind a made-up one.
    op.execute("ALTER TABLE order_svc.order_counters ALTER COLUMN year DROP DEFAULT")
    op.execute("DROP SEQUENCE IF EXISTS order_svc.order_counters_year_seq")


def downgrade() -> None:
    op.execute(
        "CREATE SEQUENCE IF NOT EXISTS order_svc.order_counters_year_seq AS integer "
        "OWNED BY order_svc.order_counters.year"
    )
    op.execute(
        "ALTER TABLE order_svc.order_counters ALTER COLUMN year "
        "SET DEFAULT nextval('order_svc.order_counters_year_seq'::regclass)"
    )
