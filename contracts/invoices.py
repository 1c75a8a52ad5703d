"""Invoice stage (invoice_svc): invoices made from orders or posted by the accounting system, and
the payments against them.

In integrated setups billing is the ERP's job: it registers its invoice here
(``RegisterExternalInvoice``) and salesflow links it to the order, so sales still sees what each
customer owes and has paid. Payments are kept as amounts with a running balance, not just a status.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from contracts.base import (
    Amount,
    AwareUtc,
    CurrencyCode,
    DecimalStr,
    EntityId,
    ExternalId,
    LongText,
    Payload,
    PositiveAmount,
    ShortText,
)
from contracts.documents import (
    LINE_EXAMPLE,
    TOTALS_EXAMPLE,
    DocumentLine,
    DocumentTotals,
    PaymentTerms,
)

__all__ = [
    "CancelInvoice",
    "InvoiceCancelled",
    "InvoicePaid",
    "InvoicePosted",
    "InvoiceSource",
    "PaymentStatus",
    "RecordPayment",
    "RegisterExternalInvoice",
]

_INVOICE_ID_EXAMPLE = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
_ORDER_ID_EXAMPLE = "3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d"


class InvoiceSource(StrEnum):
    """Who made the invoice: invoice_svc from the order, or the accounting system."""

    NATIVE = "native"
    EXTERNAL = "external"


class PaymentStatus(StrEnum):
    """D365 Paid status reasons: Partial while a balance is due, Complete when none is."""

    PARTIAL = "partial"
    COMPLETE = "complete"


class RegisterExternalInvoice(Payload):
    """Command from the accounting system: it posted an invoice for this order."""

    EVENT_TYPE: ClassVar[str] = "invoice.register_external"

    external_invoice_id: ExternalId = Field(
        description="Invoice id in the accounting system; registering it twice is a no-op.",
        examples=["ERP-INV-900113"],
    )
    invoice_number: ExternalId = Field(
        description="Invoice number printed on the document.", examples=["INV-2025-000311"]
    )
    order_id: EntityId = Field(
        description="The salesflow order invoiced.", examples=[_ORDER_ID_EXAMPLE]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    totals: DocumentTotals = Field(description="Invoice totals.", examples=[TOTALS_EXAMPLE])
    issue_date: date = Field(description="Invoice date.", examples=["2025-01-31"])
    due_date: date = Field(description="Payment due date.", examples=["2025-03-02"])


class RecordPayment(Payload):
    """Command from the accounting system or payment provider: money was received."""

    EVENT_TYPE: ClassVar[str] = "invoice.record_payment"

    payment_id: ExternalId = Field(
        description="Payment id in the paying system; recording it twice is a no-op.",
        examples=["PAY-778812"],
    )
    invoice_id: EntityId | None = Field(
        default=None,
        description="salesflow invoice id; this or external_invoice_id is required.",
        examples=[_INVOICE_ID_EXAMPLE],
    )
    external_invoice_id: ExternalId | None = Field(
        default=None,
        description="Accounting-system invoice id; this or invoice_id is required.",
        examples=["ERP-INV-900113"],
    )
    amount: PositiveAmount = Field(description="Amount received, > 0.", examples=["100.00"])
    currency: CurrencyCode = Field(
        description="ISO 4217 currency; must be the invoice's.", examples=["EUR"]
    )
    paid_at: AwareUtc = Field(
        description="When the money was received (UTC).", examples=["2025-02-14T09:30:00Z"]
    )
    method: ShortText | None = Field(
        default=None,
        description="Payment method as named by the payer.",
        examples=["sepa_transfer"],
    )

    @model_validator(mode="after")
    def _names_an_invoice(self) -> Self:
        if self.invoice_id is None and self.external_invoice_id is None:
            raise ValueError("invoice_id or external_invoice_id is required")
        return self


class CancelInvoice(Payload):
    """Command: cancel an invoice (e.g. issued in error)."""

    EVENT_TYPE: ClassVar[str] = "invoice.cancel"

    invoice_id: EntityId = Field(description="The invoice.", examples=[_INVOICE_ID_EXAMPLE])
    reason: LongText = Field(description="Why it is canceled.", examples=["issued in error"])
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["ap.clerk@example.com"]
    )


class InvoicePosted(Payload):
    """An invoice became Active, made from the order or registered by the accounting system."""

    EVENT_TYPE: ClassVar[str] = "invoice.posted"

    invoice_id: EntityId = Field(
        description="salesflow invoice id.", examples=[_INVOICE_ID_EXAMPLE]
    )
    invoice_number: ExternalId = Field(description="Invoice number.", examples=["INV-2025-000311"])
    source: InvoiceSource = Field(description="Native or external.", examples=["native"])
    external_invoice_id: ExternalId | None = Field(
        default=None,
        description="Accounting-system id; set when source is external.",
        examples=["ERP-INV-900113"],
    )
    order_id: EntityId = Field(description="The order invoiced.", examples=[_ORDER_ID_EXAMPLE])
    order_number: ExternalId = Field(description="Human order number.", examples=["SO-2025-00009"])
    quote_id: EntityId = Field(
        description="The quote the order came from.",
        examples=["6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e"],
    )
    account_id: EntityId = Field(
        description="Customer account billed.", examples=["8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"]
    )
    account_name: ShortText = Field(
        description="Customer name.", examples=["Analytical Engines Ltd"]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    lines: tuple[DocumentLine, ...] = Field(
        description="Invoice lines, as on the order (external invoices too).",
        examples=[[LINE_EXAMPLE], []],
    )
    totals: DocumentTotals = Field(
        description="Totals; for a native invoice equal to the order's to the cent.",
        examples=[TOTALS_EXAMPLE],
    )
    payment_terms: PaymentTerms = Field(description="Payment terms.", examples=["net_30"])
    issue_date: date = Field(description="Invoice date.", examples=["2025-01-31"])
    due_date: date = Field(description="Payment due date.", examples=["2025-03-02"])


class InvoicePaid(Payload):
    """A payment was applied; carries the running totals so consumers need no history."""

    EVENT_TYPE: ClassVar[str] = "invoice.paid"

    invoice_id: EntityId = Field(description="The invoice.", examples=[_INVOICE_ID_EXAMPLE])
    invoice_number: ExternalId = Field(description="Invoice number.", examples=["INV-2025-000311"])
    payment_id: ExternalId = Field(description="The payment applied.", examples=["PAY-778812"])
    amount: PositiveAmount = Field(description="Amount of this payment.", examples=["100.00"])
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    paid_at: AwareUtc = Field(
        description="When the money was received (UTC).", examples=["2025-02-14T09:30:00Z"]
    )
    amount_paid_total: Amount = Field(
        description="All payments on this invoice so far.", examples=["100.00"]
    )
    balance_due: DecimalStr = Field(
        description="grand_total - amount_paid_total; negative when overpaid.", examples=["126.10"]
    )
    status: PaymentStatus = Field(
        description="complete once balance_due <= 0.", examples=["partial"]
    )


class InvoiceCancelled(Payload):
    """The invoice was canceled."""

    EVENT_TYPE: ClassVar[str] = "invoice.cancelled"

    invoice_id: EntityId = Field(description="The invoice.", examples=[_INVOICE_ID_EXAMPLE])
    invoice_number: ExternalId = Field(description="Invoice number.", examples=["INV-2025-000311"])
    order_id: EntityId = Field(description="The order it was for.", examples=[_ORDER_ID_EXAMPLE])
    reason: LongText = Field(description="Why it was canceled.", examples=["issued in error"])
