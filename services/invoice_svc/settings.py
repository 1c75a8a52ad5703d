"""invoice_svc's own settings (`SALESFLOW_INVOICE_*`): who bills, and how invoices are numbered."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.invoice_svc.domain import InvoicingMode, InvoicingPolicy


class InvoiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_INVOICE_", extra="ignore", frozen=True)

    mode: InvoicingMode = Field(
        default=InvoicingMode.NATIVE,
        description="native: invoice_svc posts one invoice per confirmed order; external: the "
        "accounting system posts invoices (invoice.register_external) and orders are only "
        "recorded to match them.",
    )
    # The number "<prefix>-<year>-<000001>" must stay a valid ExternalId (<= 64 characters,
    # starting with a letter or digit), hence the bound and pattern.
    number_prefix: str = Field(
        default="INV",
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Prefix of native invoice numbers.",
    )

    def policy(self) -> InvoicingPolicy:
        return InvoicingPolicy(mode=self.mode, number_prefix=self.number_prefix)
