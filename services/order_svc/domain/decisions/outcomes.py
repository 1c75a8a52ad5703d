"""What order_svc's decisions return: the new order plus what happened (`Confirmed`, `Fulfilled`,
`Cancelled`, `Billed`, `InvoiceMarkedPaid`, the ERP's `Acknowledged`, `RefusedByErp`,
`Resubmitted`), `Ignored` for an event that concerns no order of ours or changes nothing, or a
`Refusal` saying why a command does not fit.

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.order_svc.domain.model import (
    Completeness,
    ErpRefusal,
    InvoiceRef,
    Order,
    OrderCounter,
)


@dataclass(frozen=True, slots=True)
class Confirmed:
    order: Order
    # The year's counter once this order took its number (`confirm_order`); None when the
    # caller gave the number itself (`place_order`).
    counter: OrderCounter | None = None


@dataclass(frozen=True, slots=True)
class Fulfilled:
    order: Order
    shipment_ref: str
    completeness: Completeness


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The order was canceled: wholly, or (partly shipped) its unshipped remainder."""

    order: Order
    reason: str


@dataclass(frozen=True, slots=True)
class Billed:
    """An invoice or a credit note was applied to the order's billing.

    `changed`: its invoiced quantities or billing status moved, which `order.invoiced`
    announces; a down payment, or a credit of an amount, is recorded without an announcement.
    `stray_lines`: line numbers the document named that the order does not have (not counted).
    """

    order: Order
    document_id: UUID
    changed: bool
    stray_lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceMarkedPaid:
    """A payment was seen for one of the order's invoices; nothing to publish either."""

    order: Order
    invoice: InvoiceRef


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """The ERP booked the order: its number is recorded."""

    order: Order


@dataclass(frozen=True, slots=True)
class RefusedByErp:
    """The ERP could not book the order."""

    order: Order
    refusal: ErpRefusal


@dataclass(frozen=True, slots=True)
class Resubmitted:
    """A refused order, corrected, goes to the ERP again."""

    order: Order


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event that concerns no order of this service, or changes nothing."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Refusal:
    command: str
    reason_code: str
    detail: str
    subject_id: str | None = None
    # None: the refused command is the message being handled (order_svc keeps no command for
    # later, so it always is).
    command_event_id: UUID | None = None


Decision = (
    Confirmed
    | Fulfilled
    | Cancelled
    | Billed
    | InvoiceMarkedPaid
    | Acknowledged
    | RefusedByErp
    | Resubmitted
    | Ignored
    | Refusal
)
