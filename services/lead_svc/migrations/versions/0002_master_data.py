"""lead_svc: accounts and contacts as master data; keys folded in every script

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:00:00.000000

Accounts gain the ERP's fields (legal name, tax id, customer number, addresses, currency, terms)
and a version; two accounts may now share a name (an ERP keeps both). Contacts keep the person's
details, filled for existing contacts from the lead that created them. Keys of rows with text
beyond ASCII are folded again: the folding before this revision kept ASCII letters only, so a
company written in Cyrillic or CJK had no key at all.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.lead_svc.domain import fold, fold_email, normalise_company

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "lead_svc"
_ACCOUNT_COLUMNS = (
    ("trading_name", sa.Text()),
    ("legal_name", sa.Text()),
    ("tax_id", sa.Text()),
    ("erp_customer_number", sa.Text()),
    ("bill_to", postgresql.JSONB(astext_type=sa.Text())),
    ("ship_to", postgresql.JSONB(astext_type=sa.Text())),
    ("default_currency", sa.Text()),
    ("payment_terms", sa.Text()),
)
_CONTACT_COLUMNS = ("first_name", "last_name", "email", "phone", "job_title")


def upgrade() -> None:
    for name, type_ in _ACCOUNT_COLUMNS:
        op.add_column("accounts", sa.Column(name, type_, nullable=True), schema=S)
    op.add_column(
        "accounts",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        schema=S,
    )
    op.drop_constraint("accounts_name_key_key", "accounts", schema=S, type_="unique")
    op.alter_column("accounts", "name_key", nullable=True, schema=S)
    op.create_index("ix_accounts_name_key", "accounts", ["name_key"], schema=S)
    op.create_index(
        "ux_accounts_erp_customer_number",
        "accounts",
        ["erp_customer_number"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("erp_customer_number IS NOT NULL"),
    )
    # Existing accounts were all named by qualification: their name is the CRM's trading name.
    op.execute(f"UPDATE {S}.accounts SET trading_name = name")

    for name in _CONTACT_COLUMNS:
        op.add_column("contacts", sa.Column(name, sa.Text(), nullable=True), schema=S)
    op.create_index("ix_contacts_account_id", "contacts", ["account_id"], schema=S)
    op.execute(
        f"""
        UPDATE {S}.contacts c SET
            first_name = l.profile->>'first_name',
            last_name = l.profile->>'last_name',
            email = l.profile->>'email',
            phone = l.profile->>'phone',
            job_title = l.profile->>'job_title'
        FROM (
            SELECT DISTINCT ON (contact_id) contact_id, profile
            FROM {S}.leads WHERE contact_id IS NOT NULL ORDER BY contact_id, captured_at
        ) l
        WHERE l.contact_id = c.contact_id
        """
    )
    _refold_keys()


def _refold_keys() -> None:
    """Fold again the keys of rows whose text goes beyond ASCII (ASCII folds as before)."""
    conn = op.get_bind()
    leads = conn.execute(
        sa.text(f"SELECT lead_id, profile FROM {S}.leads WHERE profile::text ~ '[^[:ascii:]]'")
    ).all()
    rows: list[dict[str, Any]] = []
    for lead_id, profile in leads:
        company = normalise_company(profile.get("company_name"))
        person = fold(f"{profile['first_name']} {profile['last_name']}")
        rows.append(
            {
                "lead_id": lead_id,
                "email_key": fold_email(profile.get("email")),
                "company_key": company,
                "name_key": f"{company}|{person}" if company and person else None,
            }
        )
    if rows:
        conn.execute(
            sa.text(
                f"UPDATE {S}.leads SET email_key = :email_key, company_key = :company_key,"
                " name_key = :name_key WHERE lead_id = :lead_id"
            ),
            rows,
        )
    accounts = conn.execute(
        sa.text(
            f"SELECT account_id, name FROM {S}.accounts"
            " WHERE name ~ '[^[:ascii:]]' AND name_key NOT LIKE 'lead:%'"
        )
    ).all()
    if accounts:
        conn.execute(
            sa.text(f"UPDATE {S}.accounts SET name_key = :key WHERE account_id = :id"),
            [{"id": account_id, "key": normalise_company(name)} for account_id, name in accounts],
        )
    contacts = conn.execute(
        sa.text(f"SELECT contact_id, email FROM {S}.contacts WHERE email ~ '[^[:ascii:]]'")
    ).all()
    if contacts:
        conn.execute(
            sa.text(f"UPDATE {S}.contacts SET email_key = :key WHERE contact_id = :id"),
            [{"id": contact_id, "key": fold_email(email)} for contact_id, email in contacts],
        )


def downgrade() -> None:
    op.drop_index("ix_contacts_account_id", table_name="contacts", schema=S)
    for name in reversed(_CONTACT_COLUMNS):
        op.drop_column("contacts", name, schema=S)
    op.drop_index("ux_accounts_erp_customer_number", table_name="accounts", schema=S)
    op.drop_index("ix_accounts_name_key", table_name="accounts", schema=S)
    op.execute(f"UPDATE {S}.accounts SET name_key = 'lead:' || account_id WHERE name_key IS NULL")
    op.alter_column("accounts", "name_key", nullable=False, schema=S)
    op.create_unique_constraint("accounts_name_key_key", "accounts", ["name_key"], schema=S)
    op.drop_column("accounts", "version", schema=S)
    for name, _ in reversed(_ACCOUNT_COLUMNS):
        op.drop_column("accounts", name, schema=S)
