"""Opportunity and quote stage (quote_svc): quote commands from people and customers, quote events.

``QuoteAccepted`` carries the whole accepted document, not just its id: order_svc must be able to
create the order from the event alone, without calling quote_svc (services share only contracts).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from contracts.base import (
    Amount,
    AwareUtc,
    Contract,
    CurrencyCode,
    DiscountRate,
    DownPaymentRate,
    EntityId,
    ExternalId,
    LongText,
    Payload,
    Quantity,
    ShortText,
    TaxRate,
    present,
)
from contracts.documents import (
    LINE_EXAMPLE,
    TOTALS_EXAMPLE,
    BaseAmounts,
    DocumentLine,
    DocumentTotals,
    InvoicingPolicy,
    PaymentTerms,
)
from contracts.leads import CONTACT_EXAMPLE, ContactInfo
from contracts.parties import Address, CustomerDetails

__all__ = [
    "AcceptQuote",
    "OpportunityClosed",
    "OpportunityOutcome",
    "QuoteAccepted",
    "QuoteCloseStatus",
    "QuoteClosed",
    "QuoteIssued",
    "QuoteLineInput",
    "QuoteRejectReason",
    "RejectQuote",
    "ReviseQuote",
]


class QuoteRejectReason(StrEnum):
    """Why the customer or the seller rejected a quote."""

    LOST = "lost"
    CANCELED = "canceled"


class QuoteCloseStatus(StrEnum):
    """How a quote left the Active state other than by being won (D365 "Closed" reasons)."""

    REVISED = "revised"
    LOST = "lost"
    CANCELED = "canceled"
    EXPIRED = "expired"


class OpportunityOutcome(StrEnum):
    """Final state of an opportunity."""

    WON = "won"
    LOST = "lost"


class QuoteLineInput(Contract):
    """A line as a person enters it on revision; quote_svc prices it from the price list."""

    sku: ExternalId | None = Field(
        default=None, description="Catalog sku; None for a write-in product.", examples=["SKU-1001"]
    )
    description: ShortText | None = Field(
        default=None,
        description="Line text; defaults to the catalog description, required for a write-in.",
        examples=["Installation, on site"],
    )
    quantity: Quantity = Field(description="Quantity, > 0.", examples=["10"])
    unit_price: Amount | None = Field(
        default=None,
        description="Price per unit; overrides the price list, required for a write-in.",
        examples=["120.00"],
    )
    discount_amount: Amount = Field(
        default=Decimal(0), description="Manual discount on the line.", examples=["0"]
    )
    discount_rate: DiscountRate | None = Field(
        default=None,
        description="Manual discount as a share of the line's base amount (0.1 = 10 %); adds "
        "to a volume discount and to `discount_amount` (contracts.money, the discount rule).",
        examples=["0.1", None],
    )
    tax_rate: TaxRate | None = Field(
        default=None,
        description="Tax rate; defaults to the catalog's, required for a write-in.",
        examples=["0.19"],
    )

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [present("sku"), present("description", "unit_price", "tax_rate")]
        }
    )

    @model_validator(mode="after")
    def _write_in_is_priced(self) -> Self:
        # A write-in has no catalog entry to fall back on; refusing it here gives the sender a
        # precise contract error instead of a half-priced line further down.
        if self.sku is None and (
            self.unit_price is None or self.description is None or self.tax_rate is None
        ):
            raise ValueError("a write-in line (no sku) needs description, unit_price and tax_rate")
        return self


class ReviseQuote(Payload):
    """Command: close the active quote as Revised and issue revision + 1 with these lines."""

    EVENT_TYPE: ClassVar[str] = "quote.revise"

    quote_id: EntityId = Field(
        description="The quote to revise.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    lines: tuple[QuoteLineInput, ...] = Field(
        min_length=1,
        description="The complete new set of lines (replaces the old ones).",
        examples=[[{"sku": "SKU-1001", "quantity": "12"}]],
    )
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["jane.doe@example.com"]
    )
    note: LongText | None = Field(
        default=None, description="Why the quote is revised.", examples=["customer wants 12"]
    )
    quote_discount_rate: DiscountRate | None = Field(
        default=None,
        description="Quote-level discount as a share of the lines' net sum (0.05 = 5 %), "
        "allocated to the lines (contracts.money, the discount rule).",
        examples=["0.05", None],
    )
    quote_discount_amount: Amount | None = Field(
        default=None,
        description="Quote-level discount as an amount, allocated to the lines; adds to the rate.",
        examples=["50.00", None],
    )


class AcceptQuote(Payload):
    """Command: the customer accepted the quote; closes it as Won and creates the order."""

    EVENT_TYPE: ClassVar[str] = "quote.accept"

    quote_id: EntityId = Field(
        description="The quote accepted.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    accepted_by: ShortText = Field(
        description="Who accepted: the customer contact or the seller recording it.",
        examples=["ada.lovelace@example.com"],
    )
    customer_po: ShortText | None = Field(
        default=None, description="Customer's purchase order number.", examples=["PO 4711/2025"]
    )
    invoicing_policy: InvoicingPolicy | None = Field(
        default=None,
        description="How the order is billed, when it differs from the deployment's default.",
        examples=["on_delivery", None],
    )
    down_payment_rate: DownPaymentRate | None = Field(
        default=None,
        description="Share of the order billed at confirmation under the down_payment policy "
        "(0.3 for 30 %); the deployment's default when absent.",
        examples=["0.3", None],
    )
    ship_to: Address | None = Field(
        default=None,
        description="Deliver elsewhere than the account's ship-to address.",
        examples=[None],
    )
    requested_delivery_date: date | None = Field(
        default=None, description="When the customer wants the goods.", examples=["2025-03-15"]
    )
    shipping_method: ShortText | None = Field(
        default=None, description="How to ship, as the customer asked.", examples=["express"]
    )


class RejectQuote(Payload):
    """Command: close the active quote as Lost or Canceled."""

    EVENT_TYPE: ClassVar[str] = "quote.reject"

    quote_id: EntityId = Field(
        description="The quote rejected.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    reason: QuoteRejectReason = Field(description="Status reason.", examples=["lost"])
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["jane.doe@example.com"]
    )
    note: LongText | None = Field(
        default=None, description="Free text.", examples=["went with a competitor"]
    )


class _QuoteDocument(Payload):
    """Fields shared by the issued and the accepted quote: the document as the customer saw it."""

    quote_id: EntityId = Field(
        description="Quote id (one per revision).",
        examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"],
    )
    quote_number: ExternalId = Field(
        description="Human quote number, shared by all revisions.", examples=["Q-2025-00017"]
    )
    revision: int = Field(ge=1, description="Revision, 1 for the first issue.", examples=[1])
    opportunity_id: EntityId = Field(
        description="Opportunity the quote belongs to.",
        examples=["c9bf9e57-1685-4c89-bafb-ff5af830be8a"],
    )
    lead_id: ExternalId = Field(
        description="Lead that started the deal (lineage).", examples=["L-2024-000123"]
    )
    account_id: EntityId = Field(
        description="Customer account.", examples=["8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"]
    )
    account_name: ShortText = Field(
        description="Customer name.", examples=["Analytical Engines Ltd"]
    )
    contact_id: EntityId = Field(
        description="Customer contact.", examples=["0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69"]
    )
    contact: ContactInfo = Field(description="The contact.", examples=[CONTACT_EXAMPLE])
    price_list_id: ExternalId = Field(
        description="Price list the catalog lines were priced from.", examples=["PL-EUR-2025"]
    )
    customer_details: CustomerDetails | None = Field(
        default=None,
        description="Sold-to, bill-to, ship-to, tax id and ERP customer number, as the account "
        "had them when the quote was issued (an accept may name another ship-to).",
        examples=[None],
    )
    currency: CurrencyCode = Field(
        description="ISO 4217 currency of all amounts.", examples=["EUR"]
    )
    lines: tuple[DocumentLine, ...] = Field(
        min_length=1, description="Priced lines.", examples=[[LINE_EXAMPLE]]
    )
    totals: DocumentTotals = Field(description="Sums of the lines.", examples=[TOTALS_EXAMPLE])
    payment_terms: PaymentTerms = Field(description="Payment terms offered.", examples=["net_30"])
    quote_discount_rate: DiscountRate | None = Field(
        default=None,
        description="The quote-level discount rate, if any (already in the lines' discounts).",
        examples=[None],
    )
    quote_discount_amount: Amount | None = Field(
        default=None,
        description="The quote-level discount in `currency`, if any: the sum of its shares "
        "in the lines' discounts.",
        examples=[None],
    )
    base: BaseAmounts | None = Field(
        default=None,
        description="Its totals in the base currency and the rate used (absent on documents "
        "made before documents carried them).",
        examples=[None],
    )


class QuoteIssued(_QuoteDocument):
    """A quote revision became Active (read-only, presented to the customer)."""

    EVENT_TYPE: ClassVar[str] = "quote.issued"

    valid_from: date = Field(
        description="First day the quote can be accepted.", examples=["2025-01-10"]
    )
    valid_until: date = Field(
        description="Last day the quote can be accepted; it expires after.", examples=["2025-02-09"]
    )


class QuoteAccepted(_QuoteDocument):
    """The customer accepted the quote: everything order_svc needs to create the order."""

    EVENT_TYPE: ClassVar[str] = "quote.accepted"

    customer_po: ShortText | None = Field(
        default=None, description="Customer's purchase order number.", examples=["PO 4711/2025"]
    )
    invoicing_policy: InvoicingPolicy | None = Field(
        default=None,
        description="How the order is billed, when the customer agreed otherwise than the "
        "deployment's default (from the accept command).",
        examples=["on_delivery", None],
    )
    down_payment_rate: DownPaymentRate | None = Field(
        default=None,
        description="Share billed at confirmation under the down_payment policy.",
        examples=["0.3", None],
    )
    requested_delivery_date: date | None = Field(
        default=None, description="When the customer wants the goods.", examples=["2025-03-15"]
    )
    shipping_method: ShortText | None = Field(
        default=None, description="How to ship, as the customer asked.", examples=["express"]
    )
    accepted_at: AwareUtc = Field(
        description="When the acceptance was recorded (UTC).", examples=["2025-01-20T14:03:00Z"]
    )


class QuoteClosed(Payload):
    """A quote revision was closed without being won."""

    EVENT_TYPE: ClassVar[str] = "quote.closed"

    quote_id: EntityId = Field(
        description="The closed quote revision.", examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"]
    )
    quote_number: ExternalId = Field(description="Human quote number.", examples=["Q-2025-00017"])
    revision: int = Field(ge=1, description="Revision closed.", examples=[1])
    status: QuoteCloseStatus = Field(description="Status reason.", examples=["revised"])
    detail: LongText = Field(
        description="Human-readable explanation.", examples=["superseded by revision 2"]
    )


class OpportunityClosed(Payload):
    """The opportunity was closed as Won (its quote was accepted) or Lost."""

    EVENT_TYPE: ClassVar[str] = "opportunity.closed"

    opportunity_id: EntityId = Field(
        description="The opportunity.", examples=["c9bf9e57-1685-4c89-bafb-ff5af830be8a"]
    )
    lead_id: ExternalId = Field(
        description="Lead that started the deal.", examples=["L-2024-000123"]
    )
    outcome: OpportunityOutcome = Field(description="Won or lost.", examples=["won"])
    status_reason: ShortText = Field(
        description="D365-style status reason (won, canceled, out_sold, ...).", examples=["won"]
    )
    actual_revenue: Amount | None = Field(
        default=None,
        description="Net total of the won quote in `currency`; None when lost.",
        examples=["190.00"],
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    close_date: date | None = Field(
        default=None,
        description="When it closed (absent on events before closes carried it).",
        examples=["2025-01-20"],
    )
    competitor: ShortText | None = Field(
        default=None, description="Who won instead, when Lost to a competitor.", examples=[None]
    )
