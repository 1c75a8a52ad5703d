"""The sales order: created from an accepted quote, fulfilled, canceled, invoiced.

Pure: standard library and `contracts.money` only; time, ids and the number counter are passed in.
Decisions take values and return the new order plus what happened (`Confirmed`, `Fulfilled`,
`Cancelled`, `Billed`, `InvoiceMarkedPaid`), `Ignored` for an event that concerns no order of ours
or changes nothing, or a `Refusal` that says why a command (or an accepted quote) does not fit.
Refusals are answers, not errors. Callers import this package and use `domain.<name>`; the split
into values (`model`, `parties`) and decisions by subject (`decisions`: the lifecycle in
`orders`, the ERP's answers in `erp`, billing in `billing`, the time rule in `handoffs`, what
they answer in `outcomes`) is only for size.

States (D365): an order is created Active and submitted to fulfilment in the same decision, so
Active is never stored. Submitted -> Fulfilled (partial | complete) | Invoiced | Canceled; the
ERP's answer on the way: Acknowledged (booked under its number) or RefusedByErp (until corrected
and resubmitted, back to Submitted, or cancelled).
Invoiced means fully invoiced (every line to its ordered quantity, net of credit notes); a
credit note can take it back to Fulfilled or Submitted (`Order.settled`). Canceled is final: a
whole order, or the unshipped remainder of a partly shipped one (completeness then says
partial); an order shipped in full cannot be canceled. Billing never blocks a cancellation.
"""

from services.order_svc.domain.decisions import (
    ACKNOWLEDGE,
    REFUSE,
    RESUBMIT,
    Acknowledged,
    Billed,
    Cancelled,
    Confirmed,
    Corrections,
    Decision,
    Fulfilled,
    Ignored,
    InvoiceMarkedPaid,
    Refusal,
    RefusedByErp,
    Resubmitted,
    acknowledge,
    cancel,
    cancellation_reason,
    confirm_order,
    mark_invoice_paid,
    place_order,
    record_credit,
    record_fulfilment,
    record_invoice,
    refuse,
    resubmit,
    unacknowledged,
    waited_hours,
)
from services.order_svc.domain.model import (
    ACCEPTED,
    CANCEL,
    RECORD_FULFILMENT,
    AcceptedQuote,
    BaseRate,
    BillingPolicy,
    BillingStatus,
    BillingTerms,
    Completeness,
    Contact,
    CreditNote,
    Customer,
    ErpRefusal,
    InvoiceKind,
    InvoiceRef,
    Numbering,
    Order,
    OrderCounter,
    OrderLine,
    OrderPolicy,
    OrderState,
    PostedInvoice,
    QuoteRef,
    order_id_for,
)
from services.order_svc.domain.parties import Address, CustomerDetails

__all__ = [
    "ACCEPTED",
    "ACKNOWLEDGE",
    "CANCEL",
    "RECORD_FULFILMENT",
    "REFUSE",
    "RESUBMIT",
    "AcceptedQuote",
    "Acknowledged",
    "Address",
    "BaseRate",
    "Billed",
    "BillingPolicy",
    "BillingStatus",
    "BillingTerms",
    "Cancelled",
    "Completeness",
    "Confirmed",
    "Contact",
    "Corrections",
    "CreditNote",
    "Customer",
    "CustomerDetails",
    "Decision",
    "ErpRefusal",
    "Fulfilled",
    "Ignored",
    "InvoiceKind",
    "InvoiceMarkedPaid",
    "InvoiceRef",
    "Numbering",
    "Order",
    "OrderCounter",
    "OrderLine",
    "OrderPolicy",
    "OrderState",
    "PostedInvoice",
    "QuoteRef",
    "Refusal",
    "RefusedByErp",
    "Resubmitted",
    "acknowledge",
    "cancel",
    "cancellation_reason",
    "confirm_order",
    "mark_invoice_paid",
    "order_id_for",
    "place_order",
    "record_credit",
    "record_fulfilment",
    "record_invoice",
    "refuse",
    "resubmit",
    "unacknowledged",
    "waited_hours",
]
