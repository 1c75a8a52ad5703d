"""invoice_svc's decisions, by subject: `billing` (orders billed by policy, ERP invoices,
payments), `credits` (credit notes, invoice cancellations), `settlement` (order cancellations,
refunds, customer credit applied), `orders` (the ERP's order number, orders named by an ERP
document, payments naming an order), `remittances` (payments held until what they name is
known), `dunning` (overdue invoices and reminder levels, on ticks), `handoffs` (ERP invoices
held too long, on ticks), the bookkeeping they share (`books`) and what they answer besides
(`outcomes`). Callers use `domain.<name>`."""

from services.invoice_svc.domain.decisions.billing import (
    Held,
    accept_external,
    bill_at_confirmation,
    bill_shipment,
    billing_of,
    recheck_lines,
    record_payment,
    record_shipment,
    register_external,
    remember_order,
    totals_differences,
)
from services.invoice_svc.domain.decisions.books import (
    APPLY_CREDIT,
    CANCEL,
    CREDIT,
    ORDER_CONFIRMED,
    RECORD_PAYMENT,
    RECORD_REFUND,
    REGISTER,
    REGISTER_CREDIT,
    AccountCredit,
    Billing,
    CustomerCredits,
    Entry,
    EntryKind,
    Numbers,
    Refund,
    RefundDueFact,
)
from services.invoice_svc.domain.decisions.credits import (
    CreditRequest,
    ExternalCredit,
    cancel_invoice,
    credit_invoice,
    register_external_credit,
)
from services.invoice_svc.domain.decisions.dunning import FollowUp, asks_for_money, follow_up
from services.invoice_svc.domain.decisions.handoffs import stale_claims, waited_hours
from services.invoice_svc.domain.decisions.orders import (
    Allocation,
    acknowledge,
    corrected,
    named_order,
    order_payment,
)
from services.invoice_svc.domain.decisions.outcomes import Refusal, Unchanged
from services.invoice_svc.domain.decisions.remittances import (
    PaymentHeld,
    Remittance,
    invoices_awaited,
    order_awaited,
)
from services.invoice_svc.domain.decisions.settlement import (
    apply_credit,
    cancel_order,
    record_refund,
)

__all__ = [
    "APPLY_CREDIT",
    "CANCEL",
    "CREDIT",
    "ORDER_CONFIRMED",
    "RECORD_PAYMENT",
    "RECORD_REFUND",
    "REGISTER",
    "REGISTER_CREDIT",
    "AccountCredit",
    "Allocation",
    "Billing",
    "CreditRequest",
    "CustomerCredits",
    "Entry",
    "EntryKind",
    "ExternalCredit",
    "FollowUp",
    "Held",
    "Numbers",
    "PaymentHeld",
    "Refund",
    "RefundDueFact",
    "Refusal",
    "Remittance",
    "Unchanged",
    "accept_external",
    "acknowledge",
    "apply_credit",
    "asks_for_money",
    "bill_at_confirmation",
    "bill_shipment",
    "billing_of",
    "cancel_invoice",
    "cancel_order",
    "corrected",
    "credit_invoice",
    "follow_up",
    "invoices_awaited",
    "named_order",
    "order_awaited",
    "order_payment",
    "recheck_lines",
    "record_payment",
    "record_refund",
    "record_shipment",
    "register_external",
    "register_external_credit",
    "remember_order",
    "stale_claims",
    "totals_differences",
    "waited_hours",
]
