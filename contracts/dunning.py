"""Overdue invoices and payment reminders (dunning), published by invoice_svc on ticks.

`invoice.overdue` announces once that an invoice with money still due went past its due date
plus the grace; `invoice.dunning` is one reminder level (1, 2, 3 ... by the configured days past
due), each level at most once per invoice and none once the invoice is paid or credited. The
days are counted by `contracts.due`.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.base import Amount, CurrencyCode, EntityId, ExternalId, Payload, ShortText

__all__ = ["InvoiceDunning", "InvoiceOverdue"]


class _OverdueInvoice(Payload):
    invoice_id: EntityId = Field(
        description="The invoice.", examples=["a3bb189e-8bf9-4888-9912-ace4e6543002"]
    )
    invoice_number: ExternalId = Field(
        description="Its number (salesflow's or the ERP's).", examples=["INV-2025-000311"]
    )
    order_id: EntityId = Field(
        description="The order it bills.", examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7"]
    )
    account_id: EntityId = Field(
        description="The customer's account.", examples=["16fd2706-8baf-433b-82eb-8c7fada847da"]
    )
    account_name: ShortText = Field(
        description="The customer's name.", examples=["Analytical Engines Ltd"]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    due_date: date = Field(description="When it was due.", examples=["2025-02-19"])
    amount_due: Amount = Field(
        description="What the invoice still asks for as of the tick.", examples=["226.10"]
    )
    days_overdue: int = Field(
        ge=1, description="Whole days past the due date (contracts.due).", examples=[8]
    )
    as_of: date = Field(
        description="The date of the tick that found it (the decision's `now`).",
        examples=["2025-02-27"],
    )


class InvoiceOverdue(_OverdueInvoice):
    """An invoice with money still due went past its due date plus the grace (once each)."""

    EVENT_TYPE: ClassVar[str] = "invoice.overdue"

    grace_days: int = Field(
        ge=0, description="Days of grace the deployment gives past the due date.", examples=[0]
    )


class InvoiceDunning(_OverdueInvoice):
    """A payment reminder of one level: each level at most once per invoice, none once paid or
    credited. A tick that finds several levels reached at once sends only the highest."""

    EVENT_TYPE: ClassVar[str] = "invoice.dunning"

    level: int = Field(ge=1, description="Reminder level, 1 = first reminder.", examples=[1])
    level_days: int = Field(
        ge=0,
        description="Days past due at which this level is sent (the deployment's setting).",
        examples=[7],
    )
    final: bool = Field(
        description="The last level configured (what follows is the operator's call).",
        examples=[False],
    )
