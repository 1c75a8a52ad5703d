"""invoice_svc's own settings (`SALESFLOW_INVOICE_*`): who bills, when, and how documents are
numbered."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.invoice_svc.domain import BillingPolicy, InvoicingMode, InvoicingPolicy

_PREFIX = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"


class InvoiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_INVOICE_", extra="ignore", frozen=True)

    mode: InvoicingMode = Field(
        default=InvoicingMode.NATIVE,
        description="native: invoice_svc bills confirmed orders; external: the accounting system "
        "posts invoices and credit notes (invoice.register_external, "
        "invoice.register_external_credit) and orders are only recorded to match them.",
    )
    # The number "<prefix>-<year>-<000001>" must stay a valid ExternalId (<= 64 characters,
    # starting with a letter or digit), hence the bound and pattern.
    number_prefix: str = Field(
        default="INV",
        min_length=1,
        max_length=40,
        pattern=_PREFIX,
        description="Prefix of native invoice numbers.",
    )
    credit_note_prefix: str = Field(
        default="CN",
        min_length=1,
        max_length=40,
        pattern=_PREFIX,
        description="Prefix of native credit note numbers (their own gap-free sequence).",
    )
    billing: BillingPolicy = Field(
        default=BillingPolicy.ON_ORDER,
        description="When a native deployment bills an order unless the order says otherwise: "
        "on_order (all at confirmation), on_delivery (each shipment), down_payment (a share at "
        "confirmation, the rest per shipment, the down payment deducted).",
    )
    down_payment_rate: Decimal = Field(
        default=Decimal("0.3"),
        gt=0,
        lt=1,
        description="Share of the order billed at confirmation under down_payment, 0.3 = 30 %.",
    )
    accept_overpayments: bool = Field(
        default=False,
        description="Record a payment beyond what an invoice asks (the excess becomes customer "
        "credit and a refund due) instead of refusing it `overpayment`.",
    )

    overdue_grace_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="Days past the due date before an unpaid invoice is overdue "
        "(invoice.overdue, once per invoice).",
    )
    dunning_days: str = Field(
        default="7,21,45",
        pattern=r"^\s*([0-9]{1,4}(\s*,\s*[0-9]{1,4})*)?\s*$",
        description="Days past due of each reminder level, ascending and comma separated "
        "(invoice.dunning level 1, 2, ...; each once per invoice, none once paid or credited). "
        "Empty: no reminders (the ERP duns).",
    )

    held_alert_hours: int = Field(
        default=24,
        ge=0,
        description="Hours an ERP invoice may be held for an order salesflow has not seen "
        "before a tick raises invoice.handoff_stale (once per invoice); 0: never.",
    )

    @field_validator("dunning_days")
    @classmethod
    def _ascending(cls, value: str) -> str:
        days = _days(value)
        if list(days) != sorted(set(days)):
            raise ValueError("reminder days must be strictly ascending")
        return value

    def policy(self) -> InvoicingPolicy:
        return InvoicingPolicy(
            mode=self.mode,
            number_prefix=self.number_prefix,
            credit_note_prefix=self.credit_note_prefix,
            billing=self.billing,
            down_payment_rate=self.down_payment_rate,
            accept_overpayments=self.accept_overpayments,
            overdue_grace_days=self.overdue_grace_days,
            dunning_days=_days(self.dunning_days),
            held_alert_hours=self.held_alert_hours,
        )


def _days(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",") if part.strip())
