"""One realistic payload per registered event type, built the way producers build them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import money
from contracts.accounts import (
    AccountUpdated,
    Authority,
    ContactErased,
    ContactUpdated,
    LinkErpCustomer,
    UpsertAccount,
    UpsertContact,
)
from contracts.alerts import ErpInvoiceHandoffStale, OrderHandoffStale
from contracts.base import Payload
from contracts.billing import (
    ApplyCredit,
    CreditApplied,
    CreditInvoice,
    CreditLine,
    InvoiceCredited,
    RecordRefund,
    RefundCause,
    RefundDue,
    RefundRecorded,
    RegisterExternalCreditNote,
)
from contracts.catalog import PriceListItemUpserted, VolumeDiscountTier, VolumeDiscountUpserted
from contracts.documents import DocumentLine, DocumentTotals, PaymentTerms
from contracts.dunning import InvoiceDunning, InvoiceOverdue
from contracts.invoices import (
    CancelInvoice,
    InvoiceCancelled,
    InvoicePaid,
    InvoicePosted,
    InvoiceSource,
    PaymentStatus,
    RecordPayment,
    RegisterExternalInvoice,
)
from contracts.leads import (
    ContactInfo,
    DecidedBy,
    DisqualificationReason,
    DisqualifyLead,
    DisqualifyReason,
    LeadCaptured,
    LeadDisqualified,
    LeadOpened,
    LeadQualified,
    LeadReactivated,
    LeadSource,
    LeadUpdated,
    ProductInterest,
    PurchaseTimeframe,
    QualifyLead,
    ReactivateLead,
    UpdateLead,
)
from contracts.opportunities import (
    ActivateQuote,
    CloseOpportunity,
    CreateQuote,
    DraftLine,
    ForecastCategory,
    OpportunityCloseReason,
    OpportunityOpened,
    OpportunityUpdated,
    QuoteDrafted,
    ReopenOpportunity,
    UpdateOpportunity,
)
from contracts.orders import (
    AcknowledgeOrder,
    BillingStatus,
    CancelOrder,
    FulfilledLine,
    FulfilmentCompleteness,
    InvoicedLine,
    OrderAcknowledged,
    OrderCancelled,
    OrderConfirmed,
    OrderFulfilled,
    OrderInvoiced,
    OrderRefused,
    OrderResubmitted,
    RecordFulfilment,
    RefuseOrder,
    ResubmitOrder,
    ShippedLine,
)
from contracts.parties import AccountDetails, Address, CustomerDetails
from contracts.quotes import (
    AcceptQuote,
    OpportunityClosed,
    OpportunityOutcome,
    QuoteAccepted,
    QuoteClosed,
    QuoteCloseStatus,
    QuoteIssued,
    QuoteLineInput,
    QuoteRejectReason,
    RejectQuote,
    ReviseQuote,
)
from contracts.rates import ExchangeRatePublished
from contracts.rejections import REJECTION_EVENT_TYPES, CommandRejected
from contracts.ticks import TimeTicked

DEAL_ID = "L-2024-000123"
AT = datetime(2025, 1, 20, 14, 3, tzinfo=UTC)
ACCOUNT_ID = UUID("8f14e45f-ceea-4e7a-9f4b-3c1a2b5d6e7f")
CONTACT_ID = UUID("0b7e7dee-87ba-4c2e-9e0a-5f2d3c4b5a69")
OPPORTUNITY_ID = UUID("c9bf9e57-1685-4c89-bafb-ff5af830be8a")
QUOTE_ID = UUID("6f1c2d3e-4b5a-4c69-8d7e-9f0a1b2c3d4e")
ORDER_ID = UUID("3d6f0a2b-8c4e-4f1a-9b7d-2e5c8a1f0b3d")
INVOICE_ID = UUID("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d")
COMMAND_ID = UUID("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")

CONTACT = ContactInfo(
    first_name="Ada",
    last_name="Lovelace",
    email="ada.lovelace@example.com",
    phone="+44 20 7946 0958",
    job_title="Head of Engineering",
)
INTERESTS = (
    ProductInterest(sku="SKU-1001", quantity=Decimal("10")),
    ProductInterest(sku="SKU-2002", quantity=Decimal("2.5"), description="cable, per metre"),
)
LINES = (
    DocumentLine.priced(
        line_no=1,
        sku="SKU-1001",
        description="Widget, blue, 10 mm",
        quantity=Decimal("10"),
        unit="each",
        unit_price=Decimal("19.99"),
        discount_amount=Decimal("9.90"),
        tax_rate=Decimal("0.19"),
        currency="EUR",
    ),
    DocumentLine.priced(
        line_no=2,
        sku=None,
        description="Installation, on site",
        quantity=Decimal("3.5"),
        unit="hour",
        unit_price=Decimal("95.00"),
        discount_amount=Decimal(0),
        tax_rate=Decimal("0.19"),
        currency="EUR",
    ),
)
TOTALS = DocumentTotals.from_money(money.sum_totals((line.amounts("EUR") for line in LINES), "EUR"))


BILL_TO = Address(
    lines=("Analytical Engines Ltd", "12 Engine Street"),
    city="London",
    postal_code="EC1A 1BB",
    country="GB",
)
SHIP_TO = Address(
    lines=("Goods inward, Dock 4", "Unit 7, Thames Road"),
    city="Barking",
    region="Essex",
    postal_code="IG11 0HZ",
    country="GB",
)
CUSTOMER = CustomerDetails(
    account_id=ACCOUNT_ID,
    sold_to="Analytical Engines Ltd",
    bill_to=BILL_TO,
    ship_to=SHIP_TO,
    tax_id="GB123456789",
    erp_customer_number="C-10042",
)
ACCOUNT = AccountDetails(
    name="Analytical Engines",
    legal_name="Analytical Engines Ltd",
    tax_id="GB123456789",
    erp_customer_number="C-10042",
    bill_to=BILL_TO,
    ship_to=SHIP_TO,
    default_currency="GBP",
    payment_terms=PaymentTerms.NET_30,
)
# An order as an ERP receives it (the README shows it): who buys, pays and receives, what, when.
ORDER_DOCUMENT: dict[str, Any] = {
    "order_id": ORDER_ID,
    "order_number": "SO-2025-00009",
    "quote_id": QUOTE_ID,
    "quote_number": "Q-2025-00017",
    "opportunity_id": OPPORTUNITY_ID,
    "lead_id": DEAL_ID,
    "account_id": ACCOUNT_ID,
    "account_name": "Analytical Engines Ltd",
    "contact_id": CONTACT_ID,
    "contact": CONTACT,
    "price_list_id": "PL-EUR-2025",
    "currency": "EUR",
    "lines": LINES,
    "totals": TOTALS,
    "payment_terms": PaymentTerms.NET_30,
    "customer_po": "PO 4711/2025",
    "customer_details": CUSTOMER,
    "requested_delivery_date": date(2025, 2, 14),
    "shipping_method": "freight, tail lift",
    "confirmed_at": AT,
}


def _master_data_examples() -> list[Payload]:
    return [
        UpsertAccount(
            external_ref="C-10042",
            authority=Authority.ERP,
            details=ACCOUNT,
            requested_by="erp-connector",
        ),
        UpsertContact(account_id=ACCOUNT_ID, contact=CONTACT, requested_by="crm-sync"),
        LinkErpCustomer(
            account_id=ACCOUNT_ID, erp_customer_number="C-10042", requested_by="erp-connector"
        ),
        AccountUpdated(
            account_id=ACCOUNT_ID,
            version=3,
            details=ACCOUNT,
            changed=("tax_id", "bill_to"),
            ignored=("ship_to",),
            created=False,
        ),
        ContactUpdated(contact_id=CONTACT_ID, account_id=ACCOUNT_ID, contact=CONTACT, created=True),
        ContactErased(
            contact_id=CONTACT_ID, requested_by="privacy-team", reference="DSR-2026-0042"
        ),
        UpdateLead(
            lead_id=DEAL_ID,
            product_interests=INTERESTS,
            purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
            requested_by="jane.doe@example.com",
        ),
        LeadOpened(lead_id=DEAL_ID, missing=("company", "budget")),
        LeadUpdated(
            lead_id=DEAL_ID,
            changed=("interests", "purchase_timeframe"),
            requested_by="jane.doe@example.com",
            missing=(),
        ),
        LeadReactivated(lead_id=DEAL_ID, requested_by="jane.doe@example.com"),
        AcknowledgeOrder(
            order_number="SO-2025-00009", erp_order_number="4711", requested_by="erp-connector"
        ),
        RefuseOrder(
            order_id=ORDER_ID,
            reason_code="credit_block",
            detail="over the customer's credit limit",
            requested_by="erp-connector",
        ),
        ResubmitOrder(order_id=ORDER_ID, ship_to=SHIP_TO, requested_by="jane.doe@example.com"),
        OrderAcknowledged(order_id=ORDER_ID, order_number="SO-2025-00009", erp_order_number="4711"),
        OrderRefused(
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
            reason_code="credit_block",
            detail="over the customer's credit limit",
        ),
        OrderResubmitted(**ORDER_DOCUMENT),
    ]


_OPPORTUNITY: dict[str, Any] = {
    "opportunity_id": OPPORTUNITY_ID,
    "lead_id": DEAL_ID,
    "topic": "50 widgets",
    "account_id": ACCOUNT_ID,
    "account_name": "Analytical Engines Ltd",
    "currency": "EUR",
    "state": "open",
    "status_reason": "in_progress",
    "estimated_revenue": Decimal("190.00"),
    "revenue_given": False,
    "estimated_close_date": date(2025, 2, 9),
    "probability": 40,
    "pipeline_phase": "propose",
    "forecast_category": ForecastCategory.PIPELINE,
}

_OVERDUE: dict[str, Any] = {
    "invoice_id": INVOICE_ID,
    "invoice_number": "INV-2025-000311",
    "order_id": ORDER_ID,
    "account_id": ACCOUNT_ID,
    "account_name": "Analytical Engines Ltd",
    "currency": "EUR",
    "due_date": date(2025, 2, 19),
    "amount_due": Decimal("226.10"),
    "days_overdue": 8,
    "as_of": date(2025, 2, 27),
}


_STALE: dict[str, Any] = {
    "waiting_since": datetime(2025, 2, 10, 9, 30, tzinfo=UTC),
    "waited_hours": 26,
    "threshold_hours": 24,
    "as_of": datetime(2025, 2, 11, 11, tzinfo=UTC),
}


def _single_type_examples() -> list[Payload]:
    return [
        TimeTicked(at=datetime(2025, 3, 1, 6, tzinfo=UTC), period_seconds=3600),
        InvoiceOverdue(**_OVERDUE, grace_days=0),
        ExchangeRatePublished(
            from_currency="USD", to_currency="EUR", rate=Decimal("0.92"), valid_on=date(2025, 1, 10)
        ),
        VolumeDiscountUpserted(
            price_list_id="PL-EUR-2025",
            sku="SKU-1001",
            tiers=(
                VolumeDiscountTier(min_quantity=Decimal(10), discount_rate=Decimal("0.05")),
                VolumeDiscountTier(min_quantity=Decimal(100), discount_rate=Decimal("0.1")),
            ),
        ),
        UpdateOpportunity(
            opportunity_id=OPPORTUNITY_ID,
            probability=60,
            pipeline_phase="propose",
            forecast_category=ForecastCategory.BEST_CASE,
            requested_by="jane.doe@example.com",
        ),
        CloseOpportunity(
            opportunity_id=OPPORTUNITY_ID,
            outcome=OpportunityOutcome.LOST,
            status_reason=OpportunityCloseReason.OUT_SOLD,
            competitor="Babbage & Co",
            requested_by="jane.doe@example.com",
        ),
        ReopenOpportunity(opportunity_id=OPPORTUNITY_ID, requested_by="jane.doe@example.com"),
        CreateQuote(
            opportunity_id=OPPORTUNITY_ID,
            quote_id=UUID("2d1b6f0e-3c4a-4b5d-8e6f-7a8b9c0d1e2f"),
            lines=(QuoteLineInput(sku="SKU-1001", quantity=Decimal(12)),),
            requested_by="jane.doe@example.com",
        ),
        ActivateQuote(quote_id=QUOTE_ID, requested_by="jane.doe@example.com"),
        OpportunityOpened(**_OPPORTUNITY),
        OpportunityUpdated(
            **_OPPORTUNITY, changed=("probability", "pipeline_phase"), reason="updated"
        ),
        QuoteDrafted(
            quote_id=QUOTE_ID,
            quote_number="Q-2025-00017",
            revision=1,
            opportunity_id=OPPORTUNITY_ID,
            lead_id=DEAL_ID,
            account_name="Analytical Engines Ltd",
            price_list_id="PL-EUR-2025",
            currency="EUR",
            lines=(
                DraftLine(
                    line_no=1,
                    sku="SKU-9999",
                    description="SKU-9999",
                    quantity=Decimal(10),
                    tax_rate=Decimal("0.19"),
                ),
            ),
            unpriced_lines=(1,),
            waiting_for="needs_price",
        ),
        ErpInvoiceHandoffStale(
            **_STALE,
            action="check the order number on the ERP invoice, or confirm the order",
            external_invoice_id="ERP-INV-88817",
            invoice_number="AR-2025-01337",
            order_number="SO-2025-00009",
        ),
        OrderHandoffStale(
            **_STALE,
            action="check the ERP connector; acknowledge, refuse or cancel the order",
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
        ),
        InvoiceDunning(**_OVERDUE, level=1, level_days=7, final=False),
        LeadCaptured(
            lead_id=DEAL_ID,
            source=LeadSource.WEB_FORM,
            company_name="Analytical Engines Ltd",
            contact=CONTACT,
            topic="Widgets for the new plant",
            budget_amount=Decimal("25000.00"),
            currency="EUR",
            purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
            product_interests=INTERESTS,
            estimated_amount=Decimal("12000.00"),
            estimated_close_date=date(2025, 3, 31),
            notes="Call after 3pm",
        ),
        QualifyLead(lead_id=DEAL_ID, requested_by="jane.doe@example.com", note=None),
        DisqualifyLead(
            lead_id=DEAL_ID,
            reason=DisqualifyReason.CANNOT_CONTACT,
            requested_by="jane.doe@example.com",
            note="three calls, no answer",
        ),
        ReactivateLead(lead_id=DEAL_ID, requested_by="jane.doe@example.com", note=None),
        LeadQualified(
            lead_id=DEAL_ID,
            account_id=ACCOUNT_ID,
            account_name="Analytical Engines Ltd",
            account_is_new=True,
            contact_id=CONTACT_ID,
            contact=CONTACT,
            opportunity_id=OPPORTUNITY_ID,
            topic="Widgets for the new plant",
            estimated_revenue=Decimal("12000.00"),
            currency="EUR",
            estimated_close_date=date(2025, 3, 31),
            product_interests=INTERESTS,
            qualified_by=DecidedBy.POLICY,
            rule="budget_and_timeframe",
            source=LeadSource.TRADE_SHOW,
            campaign_id="CMP-2025-SPRING",
            notes="Call after 3pm",
            account=ACCOUNT,
            account_version=3,
        ),
        LeadDisqualified(
            lead_id=DEAL_ID,
            reason=DisqualificationReason.DUPLICATE,
            duplicate_of="L-2024-000042",
            disqualified_by=DecidedBy.POLICY,
            detail="same email as L-2024-000042",
        ),
        PriceListItemUpserted(
            price_list_id="PL-EUR-2025",
            sku="SKU-1001",
            description="Widget, blue, 10 mm",
            unit_price=Decimal("19.9900"),
            currency="EUR",
            tax_rate=Decimal("0.19"),
            unit="each",
            active=True,
        ),
        ReviseQuote(
            quote_id=QUOTE_ID,
            lines=(
                QuoteLineInput(sku="SKU-1001", quantity=Decimal("12")),
                QuoteLineInput(
                    description="Installation, on site",
                    quantity=Decimal("4"),
                    unit_price=Decimal("95.00"),
                    tax_rate=Decimal("0.19"),
                ),
            ),
            requested_by="jane.doe@example.com",
            note="customer wants 12",
        ),
        AcceptQuote(
            quote_id=QUOTE_ID, accepted_by="ada.lovelace@example.com", customer_po="PO 4711/2025"
        ),
        RejectQuote(
            quote_id=QUOTE_ID,
            reason=QuoteRejectReason.LOST,
            requested_by="jane.doe@example.com",
            note="went with a competitor",
        ),
        QuoteIssued(
            **_quote_document(), valid_from=date(2025, 1, 10), valid_until=date(2025, 2, 9)
        ),
        QuoteAccepted(**_quote_document(), customer_po="PO 4711/2025", accepted_at=AT),
        QuoteClosed(
            quote_id=QUOTE_ID,
            quote_number="Q-2025-00017",
            revision=1,
            status=QuoteCloseStatus.REVISED,
            detail="superseded by revision 2",
        ),
        OpportunityClosed(
            opportunity_id=OPPORTUNITY_ID,
            lead_id=DEAL_ID,
            outcome=OpportunityOutcome.WON,
            status_reason="won",
            actual_revenue=TOTALS.net_total,
            currency="EUR",
        ),
        CancelOrder(
            order_id=ORDER_ID, reason="customer withdrew", requested_by="jane.doe@example.com"
        ),
        RecordFulfilment(
            order_id=ORDER_ID,
            shipment_ref="SHP-2025-0042",
            lines=(ShippedLine(line_no=1, quantity_shipped=Decimal("4")),),
        ),
        OrderConfirmed(**ORDER_DOCUMENT),
        OrderFulfilled(
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
            shipment_ref="SHP-2025-0042",
            completeness=FulfilmentCompleteness.PARTIAL,
            lines=(
                FulfilledLine(
                    line_no=1, quantity_ordered=Decimal("10"), quantity_shipped_total=Decimal("4")
                ),
                FulfilledLine(
                    line_no=2, quantity_ordered=Decimal("3.5"), quantity_shipped_total=Decimal(0)
                ),
            ),
        ),
        OrderCancelled(order_id=ORDER_ID, order_number="SO-2025-00009", reason="customer withdrew"),
        RegisterExternalInvoice(
            external_invoice_id="ERP-INV-900113",
            invoice_number="INV-2025-000311",
            order_id=ORDER_ID,
            currency="EUR",
            totals=TOTALS,
            issue_date=date(2025, 1, 31),
            due_date=date(2025, 3, 2),
        ),
        RecordPayment(
            payment_id="PAY-778812",
            external_invoice_id="ERP-INV-900113",
            amount=Decimal("100.00"),
            currency="EUR",
            paid_at=AT,
            method="sepa_transfer",
        ),
        CancelInvoice(
            invoice_id=INVOICE_ID, reason="issued in error", requested_by="ap@example.com"
        ),
        InvoicePosted(
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000311",
            source=InvoiceSource.NATIVE,
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
            quote_id=QUOTE_ID,
            account_id=ACCOUNT_ID,
            account_name="Analytical Engines Ltd",
            currency="EUR",
            lines=LINES,
            totals=TOTALS,
            payment_terms=PaymentTerms.NET_30,
            issue_date=date(2025, 1, 31),
            due_date=date(2025, 3, 2),
        ),
        InvoicePaid(
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000311",
            payment_id="PAY-778812",
            amount=Decimal("100.00"),
            currency="EUR",
            paid_at=AT,
            amount_paid_total=Decimal("100.00"),
            balance_due=TOTALS.grand_total - Decimal("100.00"),
            status=PaymentStatus.PARTIAL,
        ),
        InvoiceCancelled(
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000311",
            order_id=ORDER_ID,
            reason="issued in error",
        ),
        *_billing_examples(),
    ]


def _billing_examples() -> list[Payload]:
    note_id = UUID("7c6b5a49-3827-4165-9e8d-7c6b5a493827")
    return [
        OrderInvoiced(
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
            billing_status=BillingStatus.PARTLY_INVOICED,
            lines=(
                InvoicedLine(line_no=1, quantity_ordered=Decimal(10), quantity_invoiced=Decimal(4)),
            ),
            document_id=INVOICE_ID,
        ),
        CreditInvoice(
            invoice_id=INVOICE_ID,
            credit_ref="RMA-2025-0042",
            lines=(CreditLine(line_no=1, quantity=Decimal(2)),),
            reason="two units returned damaged",
            requested_by="ar.clerk@example.com",
        ),
        RegisterExternalCreditNote(
            external_invoice_id="ERP-INV-900113",
            external_credit_note_id="ERP-CN-4410",
            credit_note_number="CN-2025-000004",
            currency="EUR",
            totals=TOTALS,
            issue_date=date(2025, 2, 10),
            reason="order cancelled",
        ),
        RecordRefund(
            refund_id="RF-2025-0007",
            account_id=ACCOUNT_ID,
            currency="EUR",
            amount=Decimal("40.00"),
            refunded_at=AT,
            method="sepa_transfer",
        ),
        ApplyCredit(
            application_id="APPL-2025-0003",
            account_id=ACCOUNT_ID,
            invoice_id=INVOICE_ID,
            currency="EUR",
            amount=Decimal("40.00"),
        ),
        InvoiceCredited(
            credit_note_id=note_id,
            credit_note_number="CN-2025-000004",
            source=InvoiceSource.NATIVE,
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000311",
            order_id=ORDER_ID,
            order_number="SO-2025-00009",
            account_id=ACCOUNT_ID,
            account_name="Analytical Engines Ltd",
            currency="EUR",
            lines=LINES,
            totals=TOTALS,
            reason="order cancelled",
            issue_date=date(2025, 2, 10),
            order_lines=(CreditLine(line_no=1, quantity=Decimal(10)),),
            invoice_balance_due=Decimal("0.00"),
        ),
        RefundDue(
            account_id=ACCOUNT_ID,
            account_name="Analytical Engines Ltd",
            currency="EUR",
            amount=Decimal("100.00"),
            credit_balance=Decimal("100.00"),
            cause=RefundCause.CREDITED_AFTER_PAYMENT,
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000311",
            credit_note_id=note_id,
        ),
        RefundRecorded(
            refund_id="RF-2025-0007",
            account_id=ACCOUNT_ID,
            currency="EUR",
            amount=Decimal("100.00"),
            refunded_at=AT,
            credit_balance=Decimal("0.00"),
        ),
        CreditApplied(
            application_id="APPL-2025-0003",
            account_id=ACCOUNT_ID,
            invoice_id=INVOICE_ID,
            invoice_number="INV-2025-000312",
            currency="EUR",
            amount=Decimal("40.00"),
            invoice_balance_due=Decimal("86.10"),
            credit_balance=Decimal("0.00"),
        ),
    ]


def _quote_document() -> dict[str, Any]:
    return {
        "quote_id": QUOTE_ID,
        "quote_number": "Q-2025-00017",
        "revision": 1,
        "opportunity_id": OPPORTUNITY_ID,
        "lead_id": DEAL_ID,
        "account_id": ACCOUNT_ID,
        "account_name": "Analytical Engines Ltd",
        "contact_id": CONTACT_ID,
        "contact": CONTACT,
        "price_list_id": "PL-EUR-2025",
        "currency": "EUR",
        "lines": LINES,
        "totals": TOTALS,
        "payment_terms": PaymentTerms.NET_30,
    }


def _examples() -> dict[str, Payload]:
    examples: dict[str, Payload] = {
        p.EVENT_TYPE: p for p in (*_single_type_examples(), *_master_data_examples())
    }
    for event_type in REJECTION_EVENT_TYPES:
        examples[event_type] = CommandRejected(
            command_event_id=COMMAND_ID,
            command_type="lead.disqualify",
            reason_code="lead_has_opportunity",
            detail=f"{DEAL_ID} already has an opportunity",
            subject_id=DEAL_ID,
        )
    return examples


EXAMPLES: dict[str, Payload] = _examples()
