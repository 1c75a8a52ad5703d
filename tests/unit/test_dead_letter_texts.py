"""Dead-letter error texts name the field and the rule, never the values (contracts/errors.py)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import pytest
from pydantic import BaseModel, ValidationError, field_validator
from sqlalchemy import exc

from contracts.errors import summarize
from shared.deadletter import DeadLetterReason

EMAIL = "ada.lovelace@example.com"


def test_a_database_error_is_named_by_sqlstate_and_constraint_never_by_its_parameters() -> None:
    driver = asyncpg.exceptions.UniqueViolationError(
        f"duplicate key value violates unique constraint; Key (email)=({EMAIL})"
    )
    driver.sqlstate = "23505"
    driver.schema_name = "lead_svc"
    driver.table_name = "contacts"
    driver.constraint_name = "contacts_email_key_key"
    try:
        try:
            raise driver
        except asyncpg.exceptions.UniqueViolationError as inner:
            raise exc.IntegrityError(
                "INSERT INTO lead_svc.contacts (email) VALUES ($1)", (EMAIL,), inner
            ) from inner
    except exc.IntegrityError as error:
        reason = DeadLetterReason.processing_failed(error)
    assert reason.code == "processing_failed"
    assert reason.error_class == "UniqueViolationError"
    assert EMAIL not in reason.message
    assert "sqlstate 23505" in reason.message
    assert "table lead_svc.contacts" in reason.message
    assert "constraint contacts_email_key_key" in reason.message


def test_a_handler_error_is_named_by_where_it_was_raised() -> None:
    def handle() -> None:
        raise ValueError(f"cannot price the lead of {EMAIL}")

    try:
        handle()
    except ValueError as error:
        reason = DeadLetterReason.processing_failed(error)
    assert EMAIL not in reason.message
    assert reason.message.startswith("ValueError raised in")
    assert "(handle)" in reason.message


class _Currency(BaseModel):
    currency: str
    amount: Decimal

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        raise ValueError(f"unknown currency {value!r}")


def test_a_validation_summary_names_the_rule_without_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        _Currency(currency="ZZQ", amount="12.5x")  # type: ignore[arg-type]
    text = summarize(caught.value)
    assert "ZZQ" not in text
    assert "12.5x" not in text
    assert "currency: Value error, unknown currency '<value>'" in text
    assert "amount:" in text
