"""quote_svc: quote_counters.year without the serial default (years are given, never drawn)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The first migration made `year` a SERIAL; the counter rows are keyed by the calendar
    # year (shared.counters), so the default and its sequence are never used.
    op.execute("ALTER TABLE quote_svc.quote_counters ALTER COLUMN year DROP DEFAULT")
    op.execute("DROP SEQUENCE IF EXISTS quote_svc.quote_counters_year_seq")


def downgrade() -> None:
    op.execute(
        "CREATE SEQUENCE IF NOT EXISTS quote_svc.quote_counters_year_seq "
        "AS integer OWNED BY quote_svc.quote_counters.year"
    )
    op.execute(
        "ALTER TABLE quote_svc.quote_counters ALTER COLUMN year "
        "SET DEFAULT nextval('quote_svc.quote_counters_year_seq')"
    )
