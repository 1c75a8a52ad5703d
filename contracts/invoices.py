"""Invoice stage (invoice_svc): invoices made from orders or posted by the accounting system, and
the payments against them.

In integrated setups billing is the ERP's job: it registers its invoice here
(``RegisterExternalInvoice``) and salesflow links it to the order, so sales still sees what each
customer owes and has paid. Payments are kept as amounts with a running balance, not just a status.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Final, Self

from pydantic import ConfigDict, Field, model_validator

from contracts.base import (
    Amount,
    AwareUtc,
    Contract,
    CurrencyCode,
    DecimalStr,
    EntityId,
    ExternalId,
    LongText,
    Payload,
    PositiveAmount,
    Quantity,
    ShortText,
    TaxRate,
    any_present,
    merged,
    null_or_absent,
)
from contracts.documents import (
    LINE_EXAMPLE,
    TOTALS_EXAMPLE,
    BaseAmounts,
    DocumentLine,
    DocumentTotals,
    PaymentTerms,
)
from contracts.parties import CustomerDetails

__all__ = [
    "BilledLine",
    "CancelInvoice",
    "DownPaymentDeduction",
    "InvoiceCancelled",
    "InvoiceKind",
    "InvoicePaid",
    "InvoicePosted",
    "InvoiceSource",
    "PaymentAllocation",
    "PaymentStatus",
    "RecordPayment",
    "RegisterExternalInvoice",
]

_INVOICE_ID_EXAMPLE = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
# The ways a payment names what it pays (RecordPayment's rule, in code and in the schema).
_BY_INVOICE: Final = ("invoice_id", "external_invoice_id")
_BY_ORDER: Final = ("order_number", "erp_order_number")
_NO_ALLOCATIONS: Final = {"properties": {"allocations": {"maxItems": 0}}}
_ORDER_ID_EXAMPLE = "3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d"


class InvoiceSource(StrEnum):
    """Who made the invoice: invoice_svc from the order, or the accounting system."""

    NATIVE = "native"
    EXTERNAL = "external"


class InvoiceKind(StrEnum):
    """A standard invoice bills order lines; a down payment invoice bills a share of the order
    before anything ships, later deducted from its standard invoices."""

    STANDARD = "standard"
    DOWN_PAYMENT = "down_payment"


class PaymentStatus(StrEnum):
    """D365 Paid status reasons: Partial while a balance is due, Complete when none is."""

    PARTIAL = "partial"
    COMPLETE = "complete"


class BilledLine(Contract):
    """What an accounting system's invoice bills of one order line."""

    line_no: int = Field(ge=1, le=10_000, description="Order line number.", examples=[1])
    quantity: Quantity = Field(description="Quantity billed, > 0.", examples=["4"])
    net_amount: Amount | None = Field(
        default=None,
        description="Net amount the ERP billed for it; checked to the cent when given.",
        examples=["76.00", None],
    )
    tax_amount: Amount | None = Field(
        default=None,
        description="Tax the ERP billed for it; checked to the cent when given.",
        examples=["14.44", None],
    )


class DownPaymentDeduction(Contract):
    """Part of a down payment deducted from a standard invoice, for one tax rate."""

    down_payment_invoice_id: EntityId = Field(
        description="The down payment invoice.", examples=[_INVOICE_ID_EXAMPLE]
    )
    down_payment_invoice_number: ExternalId = Field(
        description="Its number.", examples=["INV-2025-000310"]
    )
    tax_rate: TaxRate = Field(description="Tax rate of the deducted part.", examples=["0.19"])
    net_amount: Amount = Field(description="Net amount deducted.", examples=["57.00"])
    tax_amount: Amount = Field(description="Tax deducted.", examples=["10.83"])
    total_amount: Amount = Field(description="net_amount + tax_amount.", examples=["67.83"])


class PaymentAllocation(Contract):
    """The part of a payment that settles one invoice."""

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
    amount: PositiveAmount = Field(description="Amount applied to it, > 0.", examples=["50.00"])

    model_config = ConfigDict(json_schema_extra=any_present(*_BY_INVOICE))

    @model_validator(mode="after")
    def _names_an_invoice(self) -> Self:
        if self.invoice_id is None and self.external_invoice_id is None:
            raise ValueError("invoice_id or external_invoice_id is required")
        return self


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
    order_id: EntityId | None = Field(
        default=None,
        description="The salesflow order invoiced; or name it by order_number or erp_order_number.",
        examples=[_ORDER_ID_EXAMPLE],
    )
    order_number: ExternalId | None = Field(
        default=None, description="salesflow's order number (SO-...).", examples=["SO-2025-00009"]
    )
    erp_order_number: ExternalId | None = Field(
        default=None,
        description="The ERP's own order number (as acknowledged with order.acknowledge).",
        examples=["4711"],
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    totals: DocumentTotals = Field(description="Invoice totals.", examples=[TOTALS_EXAMPLE])
    issue_date: date = Field(description="Invoice date.", examples=["2025-01-31"])
    due_date: date = Field(description="Payment due date.", examples=["2025-03-02"])
    lines: tuple[BilledLine, ...] | None = Field(
        default=None,
        description="The order lines and quantities this invoice bills; absent: everything of "
        "the order not billed yet. Several ERP invoices may bill one order.",
        examples=[[{"line_no": 1, "quantity": "4"}], None],
    )

    model_config = ConfigDict(
        json_schema_extra=any_present("order_id", "order_number", "erp_order_number")
    )

    @model_validator(mode="after")
    def _names_an_order(self) -> Self:
        if self.order_id is None and self.order_number is None and self.erp_order_number is None:
            raise ValueError("order_id, order_number or erp_order_number is required")
        return self


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
    order_number: ExternalId | None = Field(
        default=None,
        description="Pay an order's open invoices (oldest due first) named by salesflow's order "
        "number, instead of naming an invoice.",
        examples=[None],
    )
    erp_order_number: ExternalId | None = Field(
        default=None,
        description="The same, by the ERP's own order number.",
        examples=[None],
    )
    allocations: tuple[PaymentAllocation, ...] = Field(
        default=(),
        max_length=100,
        description="One payment settling several invoices of one account: the amount applied "
        "to each, summing to `amount`. Instead of invoice_id / external_invoice_id.",
        examples=[[], [{"invoice_id": _INVOICE_ID_EXAMPLE, "amount": "100.00"}]],
    )

    # Allocations, or an invoice, or an order: one way only. That allocations sum to `amount`
    # is beyond JSON Schema; the field's description states it.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                merged(
                    {"required": ["allocations"], "properties": {"allocations": {"minItems": 1}}},
                    null_or_absent(*_BY_INVOICE, *_BY_ORDER),
                ),
                merged(_NO_ALLOCATIONS, null_or_absent(*_BY_ORDER), any_present(*_BY_INVOICE)),
                merged(_NO_ALLOCATIONS, null_or_absent(*_BY_INVOICE), any_present(*_BY_ORDER)),
            ]
        }
    )

    @model_validator(mode="after")
    def _names_an_invoice(self) -> Self:
        named = self.invoice_id is not None or self.external_invoice_id is not None
        by_order = self.order_number is not None or self.erp_order_number is not None
        if self.allocations:
            if named or by_order:
                raise ValueError("name the invoices either in allocations or at the top")
            if sum(a.amount for a in self.allocations) != self.amount:
                raise ValueError("allocations must sum to amount")
        elif not named and not by_order:
            raise ValueError("invoice_id or external_invoice_id is required")
        elif named and by_order:
            raise ValueError("name either an invoice or an order")
        return self


class CancelInvoice(Payload):
    """Command: cancel an invoice (e.g. issued in error): it is credited in full by a credit
    note, and money received for it becomes a refund due."""

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
        description="Invoice lines: the order lines (line_no as on the order) and quantities "
        "billed; on a down payment invoice, one line per tax rate.",
        examples=[[LINE_EXAMPLE], []],
    )
    totals: DocumentTotals = Field(
        description="Totals: sums of the lines, less the deductions; grand_total is what the "
        "invoice asks to be paid. All invoices of an order add up to the order's totals.",
        examples=[TOTALS_EXAMPLE],
    )
    base: BaseAmounts | None = Field(
        default=None,
        description="Its totals in the base currency and the rate used (absent on documents "
        "made before documents carried them).",
        examples=[None],
    )
    customer_details: CustomerDetails | None = Field(
        default=None,
        description="Sold-to, bill-to, ship-to, tax id and ERP customer number, from the order.",
        examples=[None],
    )
    customer_po: ShortText | None = Field(
        default=None, description="Customer's purchase order number.", examples=["PO 4711/2025"]
    )
    kind: InvoiceKind = Field(
        default=InvoiceKind.STANDARD,
        description="Standard, or a down payment before delivery.",
        examples=["standard"],
    )
    deductions: tuple[DownPaymentDeduction, ...] = Field(
        default=(),
        description="Down payment deducted from this invoice, per tax rate.",
        examples=[[]],
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
        description="What is still owed on the invoice after credit notes, payments and applied "
        "customer credit; money received beyond it is held as customer credit (refund.due).",
        examples=["126.10"],
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
    credit_note_id: EntityId | None = Field(
        default=None,
        description="The credit note that reversed it (a posted invoice is never voided by a "
        "status change).",
        examples=["7c6b5a49-3827-4165-9e8d-7c6b5a493827"],
    )
    credit_note_number: ExternalId | None = Field(
        default=None, description="Its number.", examples=["CN-2025-000004"]
    )
