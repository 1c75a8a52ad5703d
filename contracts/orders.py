"""Order stage (order_svc): orders created from accepted quotes, fulfilment, cancellation.

``OrderConfirmed`` is what an ERP connector consumes to book the sales order, so it repeats the
customer, price list, lines and totals instead of pointing at the quote.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from contracts.base import (
    INT64_MAX,
    AwareUtc,
    Contract,
    CurrencyCode,
    DownPaymentRate,
    EntityId,
    ExternalId,
    LongText,
    NonNegativeDecimal,
    Payload,
    Quantity,
    ShortText,
    any_present,
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
    "AcknowledgeOrder",
    "BillingStatus",
    "CancelOrder",
    "FulfilledLine",
    "FulfilmentCompleteness",
    "InvoicedLine",
    "OrderAcknowledged",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderFulfilled",
    "OrderInvoiced",
    "OrderRefused",
    "OrderResubmitted",
    "RecordFulfilment",
    "RefuseOrder",
    "ResubmitOrder",
    "ShippedLine",
]

_ORDER_ID_EXAMPLE = "3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d"


class FulfilmentCompleteness(StrEnum):
    """Whether every line has shipped in full (D365 Fulfilled: Partial / Complete)."""

    PARTIAL = "partial"
    COMPLETE = "complete"


class BillingStatus(StrEnum):
    """How much of the order is invoiced, net of credit notes (Odoo: invoice status)."""

    NOT_INVOICED = "not_invoiced"
    PARTLY_INVOICED = "partly_invoiced"
    FULLY_INVOICED = "fully_invoiced"


class ShippedLine(Contract):
    """Quantity of one order line that left in one shipment."""

    line_no: int = Field(ge=1, le=INT64_MAX, description="Order line number.", examples=[1])
    quantity_shipped: Quantity = Field(
        description="Quantity in this shipment, > 0.", examples=["4"]
    )


class FulfilledLine(Contract):
    """Fulfilment state of one order line after a shipment."""

    line_no: int = Field(ge=1, description="Order line number.", examples=[1])
    quantity_ordered: Quantity = Field(description="Quantity on the order.", examples=["10"])
    quantity_shipped_total: NonNegativeDecimal = Field(
        description="Quantity shipped so far, all shipments together.", examples=["4"]
    )


class InvoicedLine(Contract):
    """Billing state of one order line: what is invoiced, net of what was credited."""

    line_no: int = Field(ge=1, description="Order line number.", examples=[1])
    quantity_ordered: Quantity = Field(description="Quantity on the order.", examples=["10"])
    quantity_invoiced: NonNegativeDecimal = Field(
        description="Quantity invoiced so far less quantity credited.", examples=["4"]
    )


class CancelOrder(Payload):
    """Command: cancel an order, or what of it has not shipped yet.

    Nothing shipped: the whole order is canceled. Partly shipped: the unshipped remainder is
    canceled and the order closes. Fully shipped: refused. What was invoiced and will not ship is
    credited by invoice_svc, and money received for it becomes a refund due."""

    EVENT_TYPE: ClassVar[str] = "order.cancel"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    reason: LongText = Field(description="Why it is canceled.", examples=["customer withdrew"])
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["jane.doe@example.com"]
    )


class RecordFulfilment(Payload):
    """Command from the warehouse or ERP: a shipment left for this order."""

    EVENT_TYPE: ClassVar[str] = "order.record_fulfilment"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    shipment_ref: ExternalId = Field(
        description="Shipment id in the fulfilment system; makes the command idempotent per "
        "shipment even when it is redelivered under a new event id.",
        examples=["SHP-2025-0042"],
    )
    lines: tuple[ShippedLine, ...] = Field(
        min_length=1,
        description="Lines in this shipment.",
        examples=[[{"line_no": 1, "quantity_shipped": "4"}]],
    )


class OrderConfirmed(Payload):
    """An order was created from an accepted quote; prices are locked from the quote."""

    EVENT_TYPE: ClassVar[str] = "order.confirmed"

    order_id: EntityId = Field(description="Order id.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    quote_id: EntityId = Field(
        description="The accepted quote revision.",
        examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"],
    )
    quote_number: ExternalId = Field(description="Human quote number.", examples=["Q-2025-00017"])
    opportunity_id: EntityId = Field(
        description="The won opportunity.", examples=["c9bf9e57-1685-4c89-bafb-ff5af830be8a"]
    )
    lead_id: ExternalId = Field(
        description="Lead that started the deal.", examples=["L-2024-000123"]
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
    contact: ContactInfo = Field(
        description="The contact.",
        examples=[CONTACT_EXAMPLE],
    )
    price_list_id: ExternalId = Field(
        description="Price list of the quote.", examples=["PL-EUR-2025"]
    )
    currency: CurrencyCode = Field(
        description="ISO 4217 currency of all amounts.", examples=["EUR"]
    )
    lines: tuple[DocumentLine, ...] = Field(
        min_length=1, description="Lines, as on the accepted quote.", examples=[[LINE_EXAMPLE]]
    )
    totals: DocumentTotals = Field(
        description="Totals, equal to the quote's to the cent.", examples=[TOTALS_EXAMPLE]
    )
    base: BaseAmounts | None = Field(
        default=None,
        description="Its totals in the base currency and the rate used (absent on documents "
        "made before documents carried them).",
        examples=[None],
    )
    payment_terms: PaymentTerms = Field(description="Agreed payment terms.", examples=["net_30"])
    customer_po: ShortText | None = Field(
        default=None, description="Customer's purchase order number.", examples=["PO 4711/2025"]
    )
    invoicing_policy: InvoicingPolicy | None = Field(
        default=None,
        description="How the order is billed, when agreed otherwise than the deployment's default.",
        examples=["on_delivery", None],
    )
    down_payment_rate: DownPaymentRate | None = Field(
        default=None,
        description="Share billed at confirmation under the down_payment policy.",
        examples=["0.3", None],
    )
    customer_details: CustomerDetails | None = Field(
        default=None,
        description="Sold-to, bill-to, ship-to, tax id and ERP customer number (from the quote; "
        "the ship-to the customer named on accepting wins).",
        examples=[None],
    )
    requested_delivery_date: date | None = Field(
        default=None, description="When the customer wants the goods.", examples=["2025-03-15"]
    )
    shipping_method: ShortText | None = Field(
        default=None, description="How to ship.", examples=["express"]
    )
    confirmed_at: AwareUtc = Field(
        description="When the order was created (UTC).", examples=["2025-01-20T14:03:05Z"]
    )


class OrderFulfilled(Payload):
    """A shipment was recorded; ``completeness`` says whether the order is now fully shipped."""

    EVENT_TYPE: ClassVar[str] = "order.fulfilled"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    shipment_ref: ExternalId = Field(
        description="The shipment that caused this event.", examples=["SHP-2025-0042"]
    )
    completeness: FulfilmentCompleteness = Field(
        description="Partial or complete.", examples=["partial"]
    )
    lines: tuple[FulfilledLine, ...] = Field(
        min_length=1,
        description="Every order line with its shipped total.",
        examples=[[{"line_no": 1, "quantity_ordered": "10", "quantity_shipped_total": "4"}]],
    )


class OrderCancelled(Payload):
    """The order was canceled: wholly, or (partly shipped) its unshipped remainder, which closes
    it. Whatever was invoiced and will not ship is credited by invoice_svc."""

    EVENT_TYPE: ClassVar[str] = "order.cancelled"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    reason: LongText = Field(description="Why it was canceled.", examples=["customer withdrew"])
    lines: tuple[FulfilledLine, ...] = Field(
        default=(),
        description="Every order line with what shipped before the cancellation; empty when "
        "nothing shipped (the whole order is canceled).",
        examples=[[{"line_no": 1, "quantity_ordered": "10", "quantity_shipped_total": "4"}], []],
    )


class OrderInvoiced(Payload):
    """The order's billing changed (an invoice or a credit note for it): what is invoiced per
    line and whether the order is not, partly or fully invoiced."""

    EVENT_TYPE: ClassVar[str] = "order.invoiced"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    billing_status: BillingStatus = Field(
        description="Not, partly or fully invoiced.", examples=["partly_invoiced"]
    )
    lines: tuple[InvoicedLine, ...] = Field(
        min_length=1,
        description="Every order line with its invoiced quantity.",
        examples=[[{"line_no": 1, "quantity_ordered": "10", "quantity_invoiced": "4"}]],
    )
    document_id: EntityId = Field(
        description="The invoice or credit note that changed it.",
        examples=["5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"],
    )


class _NamesAnOrder(Payload):
    order_id: EntityId | None = Field(
        default=None,
        description="The order; this or order_number is required.",
        examples=[_ORDER_ID_EXAMPLE],
    )
    order_number: ExternalId | None = Field(
        default=None,
        description="salesflow's order number (SO-...); this or order_id is required.",
        examples=["SO-2025-00009"],
    )

    model_config = ConfigDict(json_schema_extra=any_present("order_id", "order_number"))

    @model_validator(mode="after")
    def _names_an_order(self) -> Self:
        if self.order_id is None and self.order_number is None:
            raise ValueError("order_id or order_number is required")
        return self


class AcknowledgeOrder(_NamesAnOrder):
    """Command from the ERP: it booked the order under its own number."""

    EVENT_TYPE: ClassVar[str] = "order.acknowledge"

    erp_order_number: ExternalId = Field(
        description="The ERP's sales order number.", examples=["4711"]
    )
    requested_by: ShortText = Field(description="The connector.", examples=["erp-connector"])


class RefuseOrder(_NamesAnOrder):
    """Command from the ERP: it could not book the order (credit block, unknown customer, ...)."""

    EVENT_TYPE: ClassVar[str] = "order.refuse"

    reason_code: ShortText = Field(
        description="The ERP's reason, machine readable.", examples=["credit_block"]
    )
    detail: LongText = Field(
        description="What has to change.", examples=["customer over its credit limit"]
    )
    requested_by: ShortText = Field(description="The connector.", examples=["erp-connector"])


class ResubmitOrder(Payload):
    """Command: send an order the ERP refused again, corrected where needed."""

    EVENT_TYPE: ClassVar[str] = "order.resubmit"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    ship_to: Address | None = Field(
        default=None, description="A corrected delivery address.", examples=[None]
    )
    requested_delivery_date: date | None = Field(
        default=None, description="A corrected delivery date.", examples=["2025-03-20"]
    )
    shipping_method: ShortText | None = Field(
        default=None, description="A corrected shipping method.", examples=[None]
    )
    customer_po: ShortText | None = Field(
        default=None, description="A corrected customer PO number.", examples=["PO 4711/2025-A"]
    )
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["jane.doe@example.com"]
    )


class OrderAcknowledged(Payload):
    """The ERP booked the order: its number is known (searchable by `salesflow trace`)."""

    EVENT_TYPE: ClassVar[str] = "order.acknowledged"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    erp_order_number: ExternalId = Field(description="The ERP's number.", examples=["4711"])


class OrderRefused(Payload):
    """The ERP could not book the order; it can be cancelled, or corrected and resubmitted."""

    EVENT_TYPE: ClassVar[str] = "order.refused"

    order_id: EntityId = Field(description="The order.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    reason_code: ShortText = Field(description="The ERP's reason.", examples=["credit_block"])
    detail: LongText = Field(description="What has to change.", examples=["over credit limit"])


class OrderResubmitted(OrderConfirmed):
    """A refused order sent to the ERP again: the whole document, with its corrections, under
    the same order id and number."""

    EVENT_TYPE: ClassVar[str] = "order.resubmitted"
