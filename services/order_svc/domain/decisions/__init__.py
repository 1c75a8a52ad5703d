"""order_svc's decisions, by subject: `orders` (the order's lifecycle: placed from an accepted
quote and numbered, cancelled, shipped), `billing` (the invoices, credit notes and payments
invoice_svc announces for it), `erp` (the ERP's answers: acknowledge, refuse; resubmit),
`handoffs` (an order the ERP has not acknowledged in time, on ticks), and what they answer
(`outcomes`). Callers use `domain.<name>`."""

from services.order_svc.domain.decisions.billing import (
    mark_invoice_paid,
    record_credit,
    record_invoice,
)
from services.order_svc.domain.decisions.erp import (
    ACKNOWLEDGE,
    REFUSE,
    RESUBMIT,
    Corrections,
    acknowledge,
    refuse,
    resubmit,
)
from services.order_svc.domain.decisions.handoffs import unacknowledged, waited_hours
from services.order_svc.domain.decisions.orders import (
    cancel,
    cancellation_reason,
    confirm_order,
    place_order,
    record_fulfilment,
)
from services.order_svc.domain.decisions.outcomes import (
    Acknowledged,
    Billed,
    Cancelled,
    Confirmed,
    Decision,
    Fulfilled,
    Ignored,
    InvoiceMarkedPaid,
    Refusal,
    RefusedByErp,
    Resubmitted,
)

__all__ = [
    "ACKNOWLEDGE",
    "REFUSE",
    "RESUBMIT",
    "Acknowledged",
    "Billed",
    "Cancelled",
    "Confirmed",
    "Corrections",
    "Decision",
    "Fulfilled",
    "Ignored",
    "InvoiceMarkedPaid",
    "Refusal",
    "RefusedByErp",
    "Resubmitted",
    "acknowledge",
    "cancel",
    "cancellation_reason",
    "confirm_order",
    "mark_invoice_paid",
    "place_order",
    "record_credit",
    "record_fulfilment",
    "record_invoice",
    "refuse",
    "resubmit",
    "unacknowledged",
    "waited_hours",
]
