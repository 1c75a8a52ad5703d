"""Lead stage: captured leads and the decisions on them (lead_svc consumes and publishes these).

Leads arrive from upstream systems (web forms, trade-show scanners, list imports), so their ids are
``ExternalId``; qualifying mints the salesflow ids (account, contact, opportunity) as UUIDs.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Final

from pydantic import Field, StringConstraints

from contracts.base import (
    NO_NUL,
    Amount,
    Contract,
    CurrencyCode,
    EntityId,
    ExternalId,
    LongText,
    Payload,
    Quantity,
    ShortText,
)
from contracts.parties import AccountDetails

__all__ = [
    "CONTACT_EXAMPLE",
    "ContactInfo",
    "DecidedBy",
    "DisqualificationReason",
    "DisqualifyLead",
    "DisqualifyReason",
    "EmailAddress",
    "LeadCaptured",
    "LeadDisqualified",
    "LeadOpened",
    "LeadQualified",
    "LeadReactivated",
    "LeadSource",
    "LeadUpdated",
    "ProductInterest",
    "PurchaseTimeframe",
    "QualifyLead",
    "ReactivateLead",
    "UpdateLead",
]

# Syntax only (one "@", a dot in the domain, no spaces): deliverability is the CRM's problem, and a
# stricter RFC 5322 check would refuse addresses that real mail servers accept.
EmailAddress = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s.\x00]+$")
]
# Free text on purpose: phone numbers arrive as typed into forms ("+44 20 7946 0958 ext. 12").
PhoneNumber = Annotated[str, StringConstraints(min_length=1, max_length=40), NO_NUL]


class LeadSource(StrEnum):
    """Where a lead came from."""

    WEB_FORM = "web_form"
    TRADE_SHOW = "trade_show"
    PURCHASED_LIST = "purchased_list"
    REFERRAL = "referral"
    PARTNER = "partner"
    OTHER = "other"


class PurchaseTimeframe(StrEnum):
    """When the prospect intends to buy."""

    IMMEDIATE = "immediate"
    THIS_QUARTER = "this_quarter"
    NEXT_QUARTER = "next_quarter"
    THIS_YEAR = "this_year"
    UNKNOWN = "unknown"


class DisqualifyReason(StrEnum):
    """Reasons a person may give when disqualifying a lead (D365 status reasons)."""

    LOST = "lost"
    CANNOT_CONTACT = "cannot_contact"
    NO_LONGER_INTERESTED = "no_longer_interested"
    CANCELED = "canceled"


class DisqualificationReason(StrEnum):
    """Why a lead ended disqualified: a person's reason, or ``duplicate`` found by lead_svc."""

    LOST = "lost"
    CANNOT_CONTACT = "cannot_contact"
    NO_LONGER_INTERESTED = "no_longer_interested"
    CANCELED = "canceled"
    DUPLICATE = "duplicate"


class DecidedBy(StrEnum):
    """Whether lead_svc's qualification policy or a person's command made the decision."""

    POLICY = "policy"
    COMMAND = "command"


class ContactInfo(Contract):
    """A person at the prospect or customer, as captured; copied onto later documents."""

    first_name: ShortText = Field(description="Given name.", examples=["Ada"])
    last_name: ShortText = Field(description="Family name.", examples=["Lovelace"])
    email: EmailAddress | None = Field(
        default=None,
        description="Email address (syntax-checked only); used for duplicate detection.",
        examples=["ada.lovelace@example.com"],
    )
    phone: PhoneNumber | None = Field(
        default=None, description="Phone number as entered.", examples=["+44 20 7946 0958"]
    )
    job_title: ShortText | None = Field(
        default=None, description="Job title.", examples=["Head of Engineering"]
    )


class ProductInterest(Contract):
    """A catalog product the prospect asked about; becomes a quote line when priced."""

    sku: ExternalId = Field(description="Catalog stock-keeping unit.", examples=["SKU-1001"])
    quantity: Quantity = Field(description="Quantity of interest, > 0.", examples=["10"])
    description: ShortText | None = Field(
        default=None, description="How the prospect described it.", examples=["Widget, blue"]
    )


# JSON examples for the schema, reused by the documents that copy the contact.
CONTACT_EXAMPLE: Final[dict[str, str]] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
}
_INTERESTS_EXAMPLE = [{"sku": "SKU-1001", "quantity": "10"}]


class LeadCaptured(Payload):
    """A new lead from an upstream system; starts a deal whose id is ``lead_id``."""

    EVENT_TYPE: ClassVar[str] = "lead.captured"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    source: LeadSource = Field(description="Capture channel.", examples=["web_form"])
    company_name: ShortText | None = Field(
        default=None,
        description="Prospect's company; None for a private person.",
        examples=["Analytical Engines Ltd"],
    )
    contact: ContactInfo = Field(description="The person.", examples=[CONTACT_EXAMPLE])
    topic: ShortText = Field(
        description="What the lead is about (becomes the opportunity's topic).",
        examples=["50 widgets for the new plant"],
    )
    budget_amount: Amount | None = Field(
        default=None, description="Stated budget in `currency`.", examples=["25000.00"]
    )
    currency: CurrencyCode = Field(
        description="ISO 4217 currency of all amounts of this lead.", examples=["EUR"]
    )
    purchase_timeframe: PurchaseTimeframe = Field(
        default=PurchaseTimeframe.UNKNOWN,
        description="When the prospect intends to buy.",
        examples=["this_quarter"],
    )
    product_interests: tuple[ProductInterest, ...] = Field(
        default=(), description="Products asked about.", examples=[_INTERESTS_EXAMPLE]
    )
    estimated_amount: Amount | None = Field(
        default=None, description="Estimated deal value in `currency`.", examples=["12000.00"]
    )
    estimated_close_date: date | None = Field(
        default=None, description="Estimated close date.", examples=["2025-03-31"]
    )
    notes: LongText | None = Field(
        default=None, description="Free text from the capture.", examples=["Call after 3pm"]
    )
    campaign_id: ExternalId | None = Field(
        default=None,
        description="The marketing campaign that brought the lead.",
        examples=["CMP-2025-SPRING", None],
    )


class QualifyLead(Payload):
    """Command: qualify the lead (creates or links account and contact, opens an opportunity)."""

    EVENT_TYPE: ClassVar[str] = "lead.qualify"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    requested_by: ShortText = Field(
        description="Who asked: a user id or email in the upstream system.",
        examples=["jane.doe@example.com"],
    )
    note: LongText | None = Field(
        default=None, description="Free-text note from the requester.", examples=["Met at booth 12"]
    )


class DisqualifyLead(Payload):
    """Command: disqualify an open lead. Refused once the lead has an opportunity."""

    EVENT_TYPE: ClassVar[str] = "lead.disqualify"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    reason: DisqualifyReason = Field(description="Status reason.", examples=["cannot_contact"])
    requested_by: ShortText = Field(
        description="Who asked: a user id or email in the upstream system.",
        examples=["jane.doe@example.com"],
    )
    note: LongText | None = Field(
        default=None, description="Free-text note from the requester.", examples=["Met at booth 12"]
    )


class ReactivateLead(Payload):
    """Command: reopen a disqualified lead."""

    EVENT_TYPE: ClassVar[str] = "lead.reactivate"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    requested_by: ShortText = Field(
        description="Who asked: a user id or email in the upstream system.",
        examples=["jane.doe@example.com"],
    )
    note: LongText | None = Field(
        default=None, description="Free-text note from the requester.", examples=["Met at booth 12"]
    )


class UpdateLead(Payload):
    """Command: correct or complete an open lead (new contact details, interests); the
    qualification policy runs again on the result."""

    EVENT_TYPE: ClassVar[str] = "lead.update"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    company_name: ShortText | None = Field(
        default=None, description="New company name; absent: unchanged.", examples=["Acme GmbH"]
    )
    contact: ContactInfo | None = Field(
        default=None, description="New contact details; absent: unchanged.", examples=[None]
    )
    topic: ShortText | None = Field(
        default=None, description="New topic; absent: unchanged.", examples=[None]
    )
    budget_amount: Amount | None = Field(
        default=None, description="New budget; absent: unchanged.", examples=["30000.00"]
    )
    purchase_timeframe: PurchaseTimeframe | None = Field(
        default=None, description="New timeframe; absent: unchanged.", examples=["this_quarter"]
    )
    product_interests: tuple[ProductInterest, ...] | None = Field(
        default=None,
        description="New product interests, replacing the old; absent: unchanged.",
        examples=[_INTERESTS_EXAMPLE, None],
    )
    notes: LongText | None = Field(
        default=None, description="New notes; absent: unchanged.", examples=[None]
    )
    requested_by: ShortText = Field(
        description="Who asked: a user id or email in the upstream system.",
        examples=["jane.doe@example.com"],
    )


class LeadOpened(Payload):
    """A captured lead stays Open for a person to decide: the policy neither qualified nor
    disqualified it. Says why, so the sales team knows what is missing."""

    EVENT_TYPE: ClassVar[str] = "lead.opened"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    missing: tuple[ShortText, ...] = Field(
        description="What keeps the policy from qualifying it: email_or_phone, company, "
        "product_interest, budget, purchase_timeframe, or a_person_decides (automatic "
        "qualification is off).",
        examples=[["company", "budget"]],
    )


class LeadUpdated(Payload):
    """An open lead was corrected or completed (and is still Open)."""

    EVENT_TYPE: ClassVar[str] = "lead.updated"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    changed: tuple[ShortText, ...] = Field(
        description="The fields the update changed.", examples=[["contact", "product_interests"]]
    )
    requested_by: ShortText = Field(description="Who asked.", examples=["jane.doe@example.com"])
    missing: tuple[ShortText, ...] = Field(
        default=(),
        description="What still keeps the policy from qualifying it (as on `lead.opened`); "
        "empty when the update let the policy decide (a `lead.qualified` or "
        "`lead.disqualified` follows).",
        examples=[["budget"]],
    )


class LeadReactivated(Payload):
    """A disqualified lead was reopened."""

    EVENT_TYPE: ClassVar[str] = "lead.reactivated"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    requested_by: ShortText = Field(description="Who asked.", examples=["jane.doe@example.com"])


class LeadQualified(Payload):
    """The lead became an opportunity; carries everything quote_svc needs to open it."""

    EVENT_TYPE: ClassVar[str] = "lead.qualified"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    account_id: EntityId = Field(
        description="Account created or linked by qualification.",
        examples=["8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"],
    )
    account_name: ShortText = Field(
        description="Account name (company, or the person's name when there is no company).",
        examples=["Analytical Engines Ltd"],
    )
    account_is_new: bool = Field(
        description="True when qualification created the account.", examples=[True]
    )
    contact_id: EntityId = Field(
        description="Contact created or linked by qualification.",
        examples=["0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69"],
    )
    contact: ContactInfo = Field(description="The contact.", examples=[CONTACT_EXAMPLE])
    opportunity_id: EntityId = Field(
        description="The opportunity opened for this deal.",
        examples=["c9bf9e57-1685-4c89-bafb-ff5af830be8a"],
    )
    topic: ShortText = Field(description="Opportunity topic.", examples=["50 widgets"])
    estimated_revenue: Amount | None = Field(
        default=None, description="Estimated revenue in `currency`.", examples=["12000.00"]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    estimated_close_date: date | None = Field(
        default=None, description="Estimated close date.", examples=["2025-03-31"]
    )
    product_interests: tuple[ProductInterest, ...] = Field(
        description="Products to quote.", examples=[_INTERESTS_EXAMPLE]
    )
    qualified_by: DecidedBy = Field(
        description="Policy or a person's command.", examples=["policy"]
    )
    rule: ShortText = Field(
        description='The policy rule that qualified the lead, or "command".',
        examples=["budget_and_timeframe"],
    )
    source: LeadSource | None = Field(
        default=None, description="Where the lead came from (lineage).", examples=["trade_show"]
    )
    campaign_id: ExternalId | None = Field(
        default=None, description="The campaign that brought it.", examples=["CMP-2025-SPRING"]
    )
    notes: LongText | None = Field(
        default=None, description="The lead's notes, carried to the opportunity.", examples=[None]
    )
    account: AccountDetails | None = Field(
        default=None,
        description="The account's master data as known at qualification (addresses, tax id, "
        "ERP customer number), so the first quote can carry it.",
        examples=[None],
    )
    account_version: int | None = Field(
        default=None,
        ge=1,
        description="The version of `account` (as on `account.updated`): a reader holding a "
        "newer version of the account keeps its own, an older one takes this.",
        examples=[3],
    )


class LeadDisqualified(Payload):
    """The lead was disqualified, by a person or as a duplicate of another lead."""

    EVENT_TYPE: ClassVar[str] = "lead.disqualified"

    lead_id: ExternalId = Field(
        description="Lead id given by the capturing system; also the deal id.",
        examples=["L-2024-000123"],
    )
    reason: DisqualificationReason = Field(description="Status reason.", examples=["duplicate"])
    duplicate_of: ExternalId | None = Field(
        default=None,
        description='The lead this one duplicates; set when reason is "duplicate".',
        examples=["L-2024-000042"],
    )
    disqualified_by: DecidedBy = Field(
        description="Policy (duplicate detection) or a person's command.", examples=["policy"]
    )
    detail: LongText = Field(
        description="Human-readable explanation.", examples=["same email as L-2024-000042"]
    )
