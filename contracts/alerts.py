"""Stale hand-offs: what a tick finds waiting too long between salesflow and the ERP, raised as
an alert an operator can act on (each one once).

- `invoice.handoff_stale` (invoice_svc): an ERP invoice is held for an order salesflow has not
  seen confirmed, longer than the deployment allows. Usually a wrong order number on the ERP's
  side, or an order stuck upstream.
- `order.handoff_stale` (order_svc): an order was confirmed (handed to the ERP) and the ERP has
  not acknowledged it in time. Usually the connector is down, or the ERP parked it.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.base import AwareUtc, EntityId, ExternalId, LongText, Payload

__all__ = ["ErpInvoiceHandoffStale", "OrderHandoffStale"]


class _HandoffStale(Payload):
    waiting_since: AwareUtc = Field(
        description="When the hand-off began (the ERP invoice received, the order confirmed).",
        examples=["2025-02-10T09:30:00Z"],
    )
    waited_hours: int = Field(
        ge=0, description="Whole hours waited as of the tick that found it.", examples=[26]
    )
    threshold_hours: int = Field(
        ge=1, description="The deployment's limit that was passed.", examples=[24]
    )
    as_of: AwareUtc = Field(
        description="The time of the tick that found it.", examples=["2025-02-11T11:00:00Z"]
    )
    action: LongText = Field(
        description="What an operator can do about it.",
        examples=["check the order number on the ERP invoice, or confirm the order"],
    )


class ErpInvoiceHandoffStale(_HandoffStale):
    """An ERP invoice has been held longer than allowed for an order salesflow has not seen."""

    EVENT_TYPE: ClassVar[str] = "invoice.handoff_stale"

    external_invoice_id: ExternalId = Field(
        description="The ERP's invoice id.", examples=["ERP-INV-88817"]
    )
    invoice_number: ExternalId = Field(
        description="The ERP's invoice number.", examples=["AR-2025-01337"]
    )
    order_id: EntityId | None = Field(
        default=None,
        description="The order it names by salesflow's id, if it does.",
        examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7", None],
    )
    order_number: ExternalId | None = Field(
        default=None,
        description="The order it names by salesflow's number, if it does.",
        examples=["SO-2025-00009", None],
    )
    erp_order_number: ExternalId | None = Field(
        default=None,
        description="The order it names by the ERP's number, if it does.",
        examples=["4500012345", None],
    )


class OrderHandoffStale(_HandoffStale):
    """An order was handed to the ERP (confirmed) and not acknowledged in time."""

    EVENT_TYPE: ClassVar[str] = "order.handoff_stale"

    order_id: EntityId = Field(
        description="The order.", examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7"]
    )
    order_number: ExternalId = Field(
        description="salesflow's order number.", examples=["SO-2025-00009"]
    )
