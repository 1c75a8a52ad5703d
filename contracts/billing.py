"""Correcting and settling invoices (invoice_svc): credit notes, customer credit, refunds.

A posted invoice is never edited or voided: it is corrected by a credit note that references it,
for the whole invoice, some of its lines or an amount, numbered from its own gap-free sequence.
Money received beyond what an invoice still asks (an accepted overpayment, a payment on an
invoice credited since) becomes the customer's credit, announced as ``refund.due``; paying it
back (``invoice.record_refund``) or applying it to another invoice of the same account
(``invoice.apply_credit``) settles it.

Account-level commands (refund, apply credit) belong to no deal: their envelope's ``deal_id``
(and so the Kafka key) is the account id.
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
    any_present,
)
from contracts.documents import (
    LINE_EXAMPLE,
    TOTALS_EXAMPLE,
    BaseAmounts,
    DocumentLine,
    DocumentTotals,
)
from contracts.invoices import InvoiceSource

__all__ = [
    "ApplyCredit",
    "CreditApplied",
    "CreditInvoice",
    "CreditLine",
    "InvoiceCredited",
    "RecordRefund",
    "RefundCause",
    "RefundDue",
    "RefundRecorded",
    "RegisterExternalCreditNote",
]

_INVOICE_ID_EXAMPLE = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
_ACCOUNT_ID_EXAMPLE = "8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f"
_CREDIT_NOTE_ID_EXAMPLE = "7c6b5a49-3827-4165-9e8d-7c6b5a493827"


class CreditLine(Contract):
    """A quantity of one invoice line to credit."""

    line_no: int = Field(ge=1, le=10_000, description="Invoice line number.", examples=[1])
    quantity: Quantity = Field(description="Quantity credited, > 0.", examples=["2"])


_NAMES_AN_INVOICE: Final = any_present("invoice_id", "external_invoice_id")


class _NamesAnInvoice(Payload):
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

    model_config = ConfigDict(json_schema_extra=_NAMES_AN_INVOICE)

    @model_validator(mode="after")
    def _names_an_invoice(self) -> Self:
        if self.invoice_id is None and self.external_invoice_id is None:
            raise ValueError("invoice_id or external_invoice_id is required")
        return self


class CreditInvoice(_NamesAnInvoice):
    """Command: issue a credit note for an invoice: all of what is not credited yet, some lines
    (quantities), or an amount."""

    EVENT_TYPE: ClassVar[str] = "invoice.credit"

    credit_ref: ExternalId = Field(
        description="The requester's id for this credit; crediting it twice is a no-op.",
        examples=["RMA-2025-0042"],
    )
    lines: tuple[CreditLine, ...] = Field(
        default=(),
        max_length=1000,
        description="Invoice lines and quantities to credit; empty (and no amount): all.",
        examples=[[{"line_no": 1, "quantity": "2"}], []],
    )
    amount: PositiveAmount | None = Field(
        default=None,
        description="A gross amount to credit instead of lines (a goodwill discount), spread "
        "over the invoice's tax rates in proportion.",
        examples=[None, "50.00"],
    )
    reason: LongText = Field(description="Why.", examples=["two units returned damaged"])
    requested_by: ShortText = Field(
        description="Who asked: a user id or email.", examples=["ar.clerk@example.com"]
    )

    model_config = ConfigDict(
        json_schema_extra={
            **_NAMES_AN_INVOICE,
            # lines or an amount, not both
            "not": {
                "required": ["lines", "amount"],
                "properties": {"lines": {"minItems": 1}, "amount": {"not": {"type": "null"}}},
            },
        }
    )

    @model_validator(mode="after")
    def _lines_or_amount(self) -> Self:
        if self.lines and self.amount is not None:
            raise ValueError("credit either lines or an amount, not both")
        return self


class RegisterExternalCreditNote(_NamesAnInvoice):
    """Command from the accounting system: it issued a credit note for an invoice."""

    EVENT_TYPE: ClassVar[str] = "invoice.register_external_credit"

    external_credit_note_id: ExternalId = Field(
        description="Credit note id in the accounting system; registering it twice is a no-op.",
        examples=["ERP-CN-4410"],
    )
    credit_note_number: ExternalId = Field(
        description="Number printed on the credit note.", examples=["CN-2025-000004"]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    lines: tuple[CreditLine, ...] = Field(
        default=(),
        max_length=1000,
        description="Invoice lines and quantities credited; empty: totals only (an amount).",
        examples=[[{"line_no": 1, "quantity": "2"}], []],
    )
    totals: DocumentTotals = Field(description="Credit note totals.", examples=[TOTALS_EXAMPLE])
    issue_date: date = Field(description="Credit note date.", examples=["2025-02-10"])
    reason: LongText = Field(description="Why.", examples=["price correction"])


class RecordRefund(Payload):
    """Command from the accounting system: money held as customer credit was paid back."""

    EVENT_TYPE: ClassVar[str] = "invoice.record_refund"

    refund_id: ExternalId = Field(
        description="Refund id in the paying system; recording it twice is a no-op.",
        examples=["RF-2025-0007"],
    )
    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    amount: PositiveAmount = Field(description="Amount paid back, > 0.", examples=["40.00"])
    refunded_at: AwareUtc = Field(
        description="When the money left (UTC).", examples=["2025-02-20T10:00:00Z"]
    )
    method: ShortText | None = Field(
        default=None, description="How it was paid back.", examples=["sepa_transfer"]
    )


class ApplyCredit(_NamesAnInvoice):
    """Command: settle (part of) an invoice with the account's customer credit."""

    EVENT_TYPE: ClassVar[str] = "invoice.apply_credit"

    application_id: ExternalId = Field(
        description="The requester's id for this application; applying it twice is a no-op.",
        examples=["APPL-2025-0003"],
    )
    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    amount: PositiveAmount = Field(description="Credit applied, > 0.", examples=["40.00"])


class InvoiceCredited(Payload):
    """A credit note was issued (or registered from the accounting system) for an invoice."""

    EVENT_TYPE: ClassVar[str] = "invoice.credited"

    credit_note_id: EntityId = Field(
        description="salesflow credit note id.", examples=[_CREDIT_NOTE_ID_EXAMPLE]
    )
    credit_note_number: ExternalId = Field(
        description="Its number, from its own gap-free sequence (native).",
        examples=["CN-2025-000004"],
    )
    source: InvoiceSource = Field(description="Native or external.", examples=["native"])
    external_credit_note_id: ExternalId | None = Field(
        default=None, description="Accounting-system id when external.", examples=["ERP-CN-4410"]
    )
    invoice_id: EntityId = Field(
        description="The invoice credited.", examples=[_INVOICE_ID_EXAMPLE]
    )
    invoice_number: ExternalId = Field(description="Its number.", examples=["INV-2025-000311"])
    order_id: EntityId = Field(
        description="The order invoiced.", examples=["3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d"]
    )
    order_number: ExternalId = Field(description="Its number.", examples=["SO-2025-00009"])
    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    account_name: ShortText = Field(description="Customer name.", examples=["Analytical Engines"])
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    lines: tuple[DocumentLine, ...] = Field(
        description="What is credited: invoice lines (line_no as on the invoice) and quantities; "
        "for an amount credit, one line per tax rate without sku.",
        examples=[[LINE_EXAMPLE]],
    )
    totals: DocumentTotals = Field(description="Credit note totals.", examples=[TOTALS_EXAMPLE])
    base: BaseAmounts | None = Field(
        default=None,
        description="Its totals in the base currency and the rate used (absent on documents "
        "made before documents carried them).",
        examples=[None],
    )
    reason: LongText = Field(description="Why.", examples=["two units returned damaged"])
    issue_date: date = Field(description="Credit note date.", examples=["2025-02-10"])
    order_lines: tuple[CreditLine, ...] = Field(
        default=(),
        description="The order lines (line_no as on the order) and quantities this credit note "
        "takes back from the order's billing; empty for a credit of an amount or of a down "
        "payment, which take back no quantity.",
        examples=[[{"line_no": 1, "quantity": "2"}], []],
    )
    invoice_balance_due: DecimalStr = Field(
        description="What the invoice still asks after this credit note.", examples=["0.00"]
    )


class RefundCause(StrEnum):
    OVERPAYMENT = "overpayment"
    CREDITED_AFTER_PAYMENT = "credited_after_payment"
    PAYMENT_ON_CREDITED_INVOICE = "payment_on_credited_invoice"


class RefundDue(Payload):
    """Money received beyond what is owed became customer credit: to pay back or to apply."""

    EVENT_TYPE: ClassVar[str] = "refund.due"

    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    account_name: ShortText = Field(description="Customer name.", examples=["Analytical Engines"])
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    amount: PositiveAmount = Field(description="Credit added now.", examples=["40.00"])
    credit_balance: Amount = Field(
        description="The account's customer credit in this currency, after it.",
        examples=["40.00"],
    )
    cause: RefundCause = Field(description="How it arose.", examples=["credited_after_payment"])
    invoice_id: EntityId = Field(
        description="The invoice the money was received for.", examples=[_INVOICE_ID_EXAMPLE]
    )
    invoice_number: ExternalId = Field(description="Its number.", examples=["INV-2025-000311"])
    payment_id: ExternalId | None = Field(
        default=None, description="The payment, when one caused it.", examples=["PAY-778812"]
    )
    credit_note_id: EntityId | None = Field(
        default=None,
        description="The credit note, when one caused it.",
        examples=[_CREDIT_NOTE_ID_EXAMPLE, None],
    )


class RefundRecorded(Payload):
    """Customer credit was paid back."""

    EVENT_TYPE: ClassVar[str] = "invoice.refunded"

    refund_id: ExternalId = Field(description="The refund.", examples=["RF-2025-0007"])
    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    amount: PositiveAmount = Field(description="Amount paid back.", examples=["40.00"])
    refunded_at: AwareUtc = Field(description="When (UTC).", examples=["2025-02-20T10:00:00Z"])
    credit_balance: Amount = Field(description="Customer credit left.", examples=["0.00"])


class CreditApplied(Payload):
    """Customer credit settled (part of) an invoice."""

    EVENT_TYPE: ClassVar[str] = "invoice.credit_applied"

    application_id: ExternalId = Field(description="The application.", examples=["APPL-2025-0003"])
    account_id: EntityId = Field(
        description="The customer account.", examples=[_ACCOUNT_ID_EXAMPLE]
    )
    invoice_id: EntityId = Field(description="The invoice settled.", examples=[_INVOICE_ID_EXAMPLE])
    invoice_number: ExternalId = Field(description="Its number.", examples=["INV-2025-000312"])
    currency: CurrencyCode = Field(description="ISO 4217 currency.", examples=["EUR"])
    amount: PositiveAmount = Field(description="Credit applied.", examples=["40.00"])
    invoice_balance_due: DecimalStr = Field(
        description="What the invoice still asks after it.", examples=["86.10"]
    )
    credit_balance: Amount = Field(description="Customer credit left.", examples=["0.00"])
