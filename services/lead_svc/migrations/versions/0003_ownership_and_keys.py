"""lead_svc: who set each account field; every matching key folded again

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 15:00:00.000000

Accounts remember which system set each field (`set_by`): a field is kept from the other system
only when its owner set it. Existing values are taken as set by their owners, except the name,
which qualification set (the CRM side).

Every key is folded again with the code's folding (0002 refolded only rows with text beyond
ASCII, but the legal forms it added change ASCII keys too: "Acme Pty Ltd" is "acme" now). The
live folding is imported on purpose: keys must match the code that reads them, whatever
revisions an upgrade runs at once. A contact whose new email key is another contact's keeps its
old key (the unique constraint; a person resolves it by correcting one of them).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.lead_svc.domain import fold, fold_email, normalise_company

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "lead_svc"
# The owners as this revision defines them (contracts/accounts.py, domain FIELD_OWNERS).
_ERP_FIELDS = (
    "legal_name",
    "tax_id",
    "erp_customer_number",
    "bill_to",
    "default_currency",
    "payment_terms",
)


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column(
            "set_by",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        schema=S,
    )
    erp = " || ".join(
        f"CASE WHEN {name} IS NOT NULL THEN jsonb_build_object('{name}', 'erp') ELSE '{{}}' END"
        for name in _ERP_FIELDS
    )
    op.execute(
        f"UPDATE {S}.accounts SET set_by = jsonb_build_object('name', 'crm')"
        f" || CASE WHEN ship_to IS NOT NULL THEN jsonb_build_object('ship_to', 'crm')"
        f" ELSE '{{}}' END || {erp}"
    )
    _refold()


def _refold() -> None:
    conn = op.get_bind()
    leads: list[dict[str, Any]] = []
    for lead_id, profile, email_key, company_key, name_key in conn.execute(
        sa.text(f"SELECT lead_id, profile, email_key, company_key, name_key FROM {S}.leads")
    ):
        company = normalise_company(profile.get("company_name"))
        person = fold(f"{profile['first_name']} {profile['last_name']}")
        keys = {
            "email_key": fold_email(profile.get("email")),
            "company_key": company,
            "name_key": f"{company}|{person}" if company and person else None,
        }
        if (email_key, company_key, name_key) != tuple(keys.values()):
            leads.append({"lead_id": lead_id, **keys})
    if leads:
        conn.execute(
            sa.text(
                f"UPDATE {S}.leads SET email_key = :email_key, company_key = :company_key,"
                " name_key = :name_key WHERE lead_id = :lead_id"
            ),
            leads,
        )
    accounts = [
        {"id": account_id, "key": key}
        for account_id, name, old in conn.execute(
            sa.text(
                f"SELECT account_id, name, name_key FROM {S}.accounts"
                " WHERE name_key IS NOT NULL AND name_key NOT LIKE 'lead:%'"
            )
        )
        if (key := normalise_company(name)) != old
    ]
    if accounts:
        conn.execute(
            sa.text(f"UPDATE {S}.accounts SET name_key = :key WHERE account_id = :id"), accounts
        )
    taken = {key for (key,) in conn.execute(sa.text(f"SELECT email_key FROM {S}.contacts")) if key}
    for contact_id, email, old in conn.execute(
        sa.text(f"SELECT contact_id, email, email_key FROM {S}.contacts WHERE email IS NOT NULL")
    ).all():
        key = fold_email(email)
        if key != old and key not in taken:
            conn.execute(
                sa.text(f"UPDATE {S}.contacts SET email_key = :key WHERE contact_id = :id"),
                {"id": contact_id, "key": key},
            )
            taken.discard(old)
            taken.add(key)


def downgrade() -> None:
    op.drop_column("accounts", "set_by", schema=S)
