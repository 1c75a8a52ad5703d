"""Opportunities a person manages, and quotes as Dynamics 365 runs them (owned by quote_svc).

Commands (`opportunity.commands`): update the estimates a person owns (estimated revenue, close
date, probability, pipeline phase, forecast category), close as Won or Lost (Canceled,
Out-Sold) with a competitor and the actual revenue, reopen. On `quote.commands`: create another
quote on an opportunity (several quotes per opportunity), activate a Draft.

Events: `opportunity.opened` when a qualified lead opens one, `opportunity.updated` whenever
what a CRM or BI tool shows of it changes (a person's update, a quote going out, a reopen), and
`quote.drafted` when a Draft exists that nobody outside quote_svc would otherwise hear of (a lead
for an unknown product: someone must give a price; a revision or a new quote waiting to be
activated).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import (
    Amount,
    Contract,
    CurrencyCode,
    DiscountRate,
    EntityId,
    ExternalId,
    LongText,
    Payload,
    Quantity,
    ShortText,
    TaxRate,
)
from contracts.quotes import OpportunityOutcome, QuoteLineInput

__all__ = [
    "ActivateQuote",
    "CloseOpportunity",
    "CreateQuote",
    "DraftLine",
    "ForecastCategory",
    "OpenStatusReason",
    "OpportunityCloseReason",
    "OpportunityOpened",
    "OpportunityUpdated",
    "QuoteDrafted",
    "ReopenOpportunity",
    "UpdateOpportunity",
]


class ForecastCategory(StrEnum):
    """D365's forecast categories."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMITTED = "committed"
    OMITTED = "omitted"
    WON = "won"
    LOST = "lost"


class OpenStatusReason(StrEnum):
    """D365's status reasons of an open opportunity."""

    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"


class OpportunityCloseReason(StrEnum):
    """D365's status reasons of a closed opportunity."""

    WON = "won"
    CANCELED = "canceled"
    OUT_SOLD = "out_sold"


_OPPORTUNITY_ID = Field(
    description="The opportunity.", examples=["c9bf9e57-1685-4c89-bafb-ff5af830be8a"]
)
_REQUESTED_BY = Field(
    description="Who asked: a user id or email.", examples=["jane.doe@example.com"]
)


class UpdateOpportunity(Payload):
    """Command: change what a person owns of an open opportunity; absent fields are kept."""

    EVENT_TYPE: ClassVar[str] = "opportunity.update"

    opportunity_id: EntityId = _OPPORTUNITY_ID
    estimated_revenue: Amount | None = Field(
        default=None,
        description="Given by a person: from now on it no longer follows the quotes.",
        examples=["25000.00", None],
    )
    estimated_close_date: date | None = Field(
        default=None, description="When the deal is expected to close.", examples=["2025-06-30"]
    )
    probability: int | None = Field(
        default=None, ge=0, le=100, description="Chance of winning, 0-100.", examples=[60]
    )
    pipeline_phase: ShortText | None = Field(
        default=None,
        description="Sales stage (qualify, develop, propose, close, or the company's own).",
        examples=["propose"],
    )
    forecast_category: ForecastCategory | None = Field(
        default=None, description="Forecast category.", examples=["best_case"]
    )
    status_reason: OpenStatusReason | None = Field(
        default=None, description="Put it on hold, or back in progress.", examples=["on_hold"]
    )
    requested_by: ShortText = _REQUESTED_BY


class CloseOpportunity(Payload):
    """Command: close an open opportunity as Won or Lost. Won needs every quote closed first
    (accept the one won, or close it); Lost closes its open quotes with it."""

    EVENT_TYPE: ClassVar[str] = "opportunity.close"

    opportunity_id: EntityId = _OPPORTUNITY_ID
    outcome: OpportunityOutcome = Field(description="Won or lost.", examples=["lost"])
    status_reason: OpportunityCloseReason = Field(
        description="won with Won; canceled or out_sold with Lost.", examples=["out_sold"]
    )
    actual_revenue: Amount | None = Field(
        default=None,
        description="Revenue won (Won only); default: the estimated revenue.",
        examples=["24000.00", None],
    )
    close_date: date | None = Field(
        default=None,
        description="When it closed; default: the day the command is handled.",
        examples=["2025-06-28", None],
    )
    competitor: ShortText | None = Field(
        default=None, description="Who won instead (Lost).", examples=["Babbage & Co", None]
    )
    note: LongText | None = Field(
        default=None, description="Free text.", examples=["price too high"]
    )
    requested_by: ShortText = _REQUESTED_BY


class ReopenOpportunity(Payload):
    """Command: reopen a closed opportunity (In Progress again). Refused when one of its quotes
    was won (its order exists): that deal is done."""

    EVENT_TYPE: ClassVar[str] = "opportunity.reopen"

    opportunity_id: EntityId = _OPPORTUNITY_ID
    requested_by: ShortText = _REQUESTED_BY


class CreateQuote(Payload):
    """Command: another quote on an open opportunity (several quotes per opportunity), as a
    Draft with a number of its own, to be activated with `quote.activate`."""

    EVENT_TYPE: ClassVar[str] = "quote.create"

    opportunity_id: EntityId = _OPPORTUNITY_ID
    quote_id: EntityId = Field(
        description="The new quote's id, chosen by the caller: a retry with the same id "
        "creates nothing more.",
        examples=["2d1b6f0e-3c4a-4b5d-8e6f-7a8b9c0d1e2f"],
    )
    lines: tuple[QuoteLineInput, ...] = Field(
        min_length=1,
        description="Its lines, priced from the opportunity's price list.",
        examples=[[{"sku": "SKU-1001", "quantity": "12"}]],
    )
    quote_discount_rate: DiscountRate | None = Field(
        default=None,
        description="Quote-level discount as a share of the lines' net sum, allocated to them.",
        examples=["0.05", None],
    )
    quote_discount_amount: Amount | None = Field(
        default=None,
        description="Quote-level discount as an amount, allocated to the lines.",
        examples=[None],
    )
    requested_by: ShortText = _REQUESTED_BY


class ActivateQuote(Payload):
    """Command: make a Draft quote Active (read-only, offered to the customer, valid from
    today for the deployment's days). Refused while a line has no price."""

    EVENT_TYPE: ClassVar[str] = "quote.activate"

    quote_id: EntityId = Field(
        description="The Draft to activate.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    requested_by: ShortText = _REQUESTED_BY


class _Opportunity(Payload):
    opportunity_id: EntityId = _OPPORTUNITY_ID
    lead_id: ExternalId = Field(
        description="Lead that started the deal.", examples=["L-2024-000123"]
    )
    topic: ShortText = Field(description="What the deal is about.", examples=["50 widgets"])
    account_id: EntityId = Field(
        description="Customer account.", examples=["8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"]
    )
    account_name: ShortText = Field(
        description="Customer name.", examples=["Analytical Engines Ltd"]
    )
    currency: CurrencyCode = Field(description="Currency of its amounts.", examples=["EUR"])
    state: ShortText = Field(description="open, won or lost.", examples=["open"])
    status_reason: ShortText = Field(
        description="in_progress, on_hold, won, canceled, out_sold.", examples=["in_progress"]
    )
    estimated_revenue: Amount = Field(description="Estimated revenue.", examples=["190.00"])
    revenue_given: bool = Field(
        description="True: a person gave the estimate; False: it follows the latest quote.",
        examples=[False],
    )
    estimated_close_date: date = Field(description="Expected close date.", examples=["2025-02-09"])
    probability: int = Field(ge=0, le=100, description="Chance of winning.", examples=[40])
    pipeline_phase: ShortText = Field(description="Sales stage.", examples=["propose"])
    forecast_category: ForecastCategory = Field(
        description="Forecast category.", examples=["pipeline"]
    )
    actual_revenue: Amount | None = Field(
        default=None, description="Revenue won, once Won.", examples=[None]
    )
    competitor: ShortText | None = Field(
        default=None, description="Who won instead, once Lost.", examples=[None]
    )


class OpportunityOpened(_Opportunity):
    """A qualified lead opened an opportunity (as it stands once its first quote was made)."""

    EVENT_TYPE: ClassVar[str] = "opportunity.opened"


class OpportunityUpdated(_Opportunity):
    """What a CRM or BI tool shows of an opportunity changed."""

    EVENT_TYPE: ClassVar[str] = "opportunity.updated"

    changed: tuple[ShortText, ...] = Field(
        description="The fields that changed.", examples=[["probability", "pipeline_phase"]]
    )
    reason: ShortText = Field(
        description="Why: updated (a person), quote_issued, reopened.", examples=["updated"]
    )


class DraftLine(Contract):
    """A line of a draft: its price may still be missing."""

    line_no: int = Field(ge=1, description="Line number.", examples=[1])
    sku: ExternalId | None = Field(
        default=None, description="Catalog sku, if any.", examples=["SKU-9999"]
    )
    description: ShortText = Field(description="Line text.", examples=["Widget, custom"])
    quantity: Quantity = Field(description="Quantity.", examples=["10"])
    unit_price: Amount | None = Field(
        default=None, description="Price per unit; None: a person must give one.", examples=[None]
    )
    discount_amount: Amount = Field(
        default=Decimal(0), description="Manual discount on the line.", examples=["0"]
    )
    tax_rate: TaxRate = Field(description="Tax rate.", examples=["0.19"])


class QuoteDrafted(Payload):
    """A Draft quote exists and waits for a person: a price to give (`needs_price`), or an
    activation (`awaiting_activation`)."""

    EVENT_TYPE: ClassVar[str] = "quote.drafted"

    quote_id: EntityId = Field(
        description="The draft.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    quote_number: ExternalId = Field(description="Its number.", examples=["Q-2025-00017"])
    revision: int = Field(ge=1, description="Its revision.", examples=[1])
    opportunity_id: EntityId = _OPPORTUNITY_ID
    lead_id: ExternalId = Field(
        description="Lead that started the deal.", examples=["L-2024-000123"]
    )
    account_name: ShortText = Field(
        description="Customer name.", examples=["Analytical Engines Ltd"]
    )
    price_list_id: ExternalId = Field(description="Its price list.", examples=["PL-EUR-2025"])
    currency: CurrencyCode = Field(description="Its currency.", examples=["EUR"])
    lines: tuple[DraftLine, ...] = Field(
        description="Its lines, priced or not.",
        examples=[
            [
                {
                    "line_no": 1,
                    "sku": "SKU-9999",
                    "description": "SKU-9999",
                    "quantity": "10",
                    "unit_price": None,
                    "discount_amount": "0",
                    "tax_rate": "0.19",
                }
            ]
        ],
    )
    unpriced_lines: tuple[int, ...] = Field(
        description="Lines without a price (a write-in, an unknown or withdrawn product).",
        examples=[[2]],
    )
    waiting_for: ShortText = Field(
        description="needs_price or awaiting_activation.", examples=["needs_price"]
    )
