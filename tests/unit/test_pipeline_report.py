"""The pipeline and billing report, pure: counts and sums in, one screen (or JSON) out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from salesflow.pipeline_report import (
    Billing,
    LedgerTotal,
    PipelineFigures,
    StateCount,
    billing,
    ordered,
    render_report,
)
from salesflow.rendering import OutputFormat

D = Decimal
LEDGER = (
    LedgerTotal("EUR", "invoice", 3, D("310.00")),
    LedgerTotal("EUR", "credit_note", 1, D("-20.00")),
    LedgerTotal("EUR", "payment", 2, D("-300.00")),
    LedgerTotal("EUR", "to_credit", 1, D("0.00"), on_credit=D("-20.00")),
    LedgerTotal("EUR", "credit_applied", 1, D("0.00"), on_credit=D("5.00")),
    LedgerTotal("EUR", "refund", 1, D("2.00"), on_credit=D("2.00")),
    LedgerTotal("USD", "invoice", 1, D("99.99")),
)
FIGURES = PipelineFigures(
    read_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    leads=(StateCount("disqualified", 2), StateCount("qualified", 10), StateCount("open", 1)),
    opportunities=(
        StateCount("lost", 1, "EUR", D("50")),
        StateCount("won", 4, "EUR", D("400.00")),
        StateCount("open", 5, "EUR", D("500.00")),
        StateCount("open", 1, "USD", D("99.99")),
    ),
    quotes=(StateCount("closed", 3), StateCount("draft", 1), StateCount("won", 4)),
    orders=(StateCount("invoiced", 4, "EUR", D("400.00")),),
    invoices=(StateCount("paid", 2, "EUR", D("200.00")), StateCount("active", 1, "EUR", D(100))),
    ledger=LEDGER,
)


def test_billing_ties_outstanding_to_the_documents() -> None:
    eur, usd = billing(LEDGER)
    assert eur == Billing(
        "EUR",
        invoices=3,
        invoiced=D("310.00"),
        credit_notes=1,
        credited=D("20.00"),
        payments=2,
        paid=D("300.00"),
        refunds=1,
        refunded=D("2.00"),
        outstanding=D("-8.00"),
        unapplied_credit=D("13.00"),
    )
    assert eur.outstanding == eur.invoiced - eur.credited - eur.paid + eur.refunded
    assert (usd.invoices, usd.outstanding, usd.paid) == (1, D("99.99"), D(0))


def test_states_follow_the_lifecycle_then_currency() -> None:
    states = [(row.state, row.currency) for row in ordered(FIGURES.opportunities)]
    assert states == [("open", "EUR"), ("open", "USD"), ("won", "EUR"), ("lost", "EUR")]
    assert [row.state for row in ordered([StateCount("zeta", 1), StateCount("draft", 1)])] == [
        "draft",
        "zeta",
    ]


def test_the_report_fits_one_screen() -> None:
    text = render_report(FIGURES, OutputFormat.TABLE)
    lines = text.splitlines()
    assert len(lines) <= 40
    assert max(len(line) for line in lines) <= 100
    assert lines[0] == "Pipeline and billing, read from PostgreSQL at 2026-12-02 09:30:00 UTC"
    assert lines[3].split() == ["leads", "open", "1"]
    assert "opportunities  open" in text
    assert lines[-1].split() == ["unapplied", "credit", "USD", "0.00"]
    eur_outstanding = next(line for line in lines if "outstanding" in line and "EUR" in line)
    assert eur_outstanding.split()[-1] == "-8.00"


def test_the_report_as_json() -> None:
    found = json.loads(render_report(FIGURES, OutputFormat.JSON))
    assert found["read_at"] == "2026-12-02T09:30:00+00:00"
    assert found["leads"][0] == {"state": "open", "count": 1}
    assert found["opportunities"][-1] == {
        "state": "lost",
        "count": 1,
        "currency": "EUR",
        "amount": "50.00",
    }
    assert found["billing"][0]["outstanding"] == "-8.00"
    assert found["billing"][0]["unapplied_credit"] == "13.00"
    assert [b["currency"] for b in found["billing"]] == ["EUR", "USD"]


def test_what_invoice_svc_holds_is_listed_only_when_something_is_held() -> None:
    """ERP invoices and payments read before the order or invoice they name (review of issue
    11, finding 1): one naming something that never arrives stays visible here."""
    held = (
        StateCount("payment", 1, "EUR", D("333.10")),
        StateCount("erp_invoice", 2, "EUR", D("5.00")),
    )
    figures = replace(FIGURES, held=held)
    lines = render_report(figures, OutputFormat.TABLE).splitlines()
    assert [line.split() for line in lines if "held" in line or "erp_invoice" in line] == [
        ["held", "erp_invoice", "2", "EUR", "5.00"],
    ]
    assert any(line.split() == ["payment", "1", "EUR", "333.10"] for line in lines)
    assert "held" not in render_report(FIGURES, OutputFormat.TABLE)
    found = json.loads(render_report(figures, OutputFormat.JSON))
    assert found["held"][-1] == {
        "state": "payment",
        "count": 1,
        "currency": "EUR",
        "amount": "333.10",
    }
    assert json.loads(render_report(FIGURES, OutputFormat.JSON))["held"] == []


def test_an_empty_database_still_reports() -> None:
    empty = PipelineFigures(FIGURES.read_at, (), (), (), (), (), ())
    text = render_report(empty, OutputFormat.TABLE)
    assert "(no receivable entries)" in text
    assert "leads          (none)" in text
