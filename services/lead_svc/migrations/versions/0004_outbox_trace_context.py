"""lead_svc: the outbox keeps the trace context of the message that caused each event

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00.000000

`trace_context` is the W3C `traceparent` (and `tracestate`, if any) the relay sends as headers
with the row (shared.tracing). Null for rows written before this revision and for rows no traced
message caused: those leave without trace headers, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "lead_svc"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("trace_context", sa.Text(), nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("outbox", "trace_context", schema=S)
