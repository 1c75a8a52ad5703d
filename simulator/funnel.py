"""The funnel the lifecycle driver reports: counts per outcome, money per currency, latency
percentiles."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal


def _money() -> defaultdict[str, Decimal]:
    return defaultdict(Decimal)


@dataclass
class Funnel:
    counts: Counter[str] = field(default_factory=Counter)
    # currency -> what (won, invoiced, credited, paid, refunds due, refunded, ...) -> amount
    amounts: defaultdict[str, defaultdict[str, Decimal]] = field(
        default_factory=lambda: defaultdict(_money)
    )
    latencies_ms: list[float] = field(default_factory=list)
    dead_letters: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # event type: reason code
    seconds: float = 0.0
    incomplete: int = 0
    stuck: list[str] = field(default_factory=list)

    def money(self, currency: str) -> defaultdict[str, Decimal]:
        return self.amounts[currency]

    def render(self) -> str:
        c = self.counts
        opps_open = c["qualified"] - c["opportunities won"] - c["opportunities lost"]
        credit_notes = sum(v for k, v in c.items() if k.startswith("credit notes "))
        rows = [
            ("leads captured", c["captured"]),
            ("  qualified", c["qualified"]),
            *[
                (f"  disqualified: {k[13:]}", v)
                for k, v in sorted(c.items())
                if k.startswith("disqualified:")
            ],
            ("opportunities open", opps_open),
            ("  won", c["opportunities won"]),
            ("  lost", c["opportunities lost"]),
            ("quotes issued (incl. revisions)", c["quotes issued"]),
            ("  revised", c["quotes revised"]),
            ("  accepted", c["quotes accepted"]),
            ("  closed lost/canceled/expired", c["quotes lost"]),
            ("  left open (expire on the first tick past validity)", c["quotes left open"]),
            ("orders confirmed", c["orders confirmed"]),
            ("  billed on order", c["orders billed on_order"]),
            ("  billed on delivery", c["orders billed on_delivery"]),
            ("  billed with a down payment", c["orders billed down_payment"]),
            ("  fulfilled (shipped in full)", c["orders fulfilled"]),
            ("  partial shipments", c["partial shipments"]),
            ("  cancelled", c["orders cancelled"]),
            ("    with nothing shipped", c["orders cancelled whole"]),
            ("    the remainder of a partial shipment", c["orders cancelled remainder"]),
            ("    as their invoice was paid (race)", c["cancel-after-pay races"]),
            ("  fully invoiced (order.invoiced)", c["orders fully invoiced"]),
            ("invoices posted", c["invoices posted"]),
            ("  at order confirmation", c["whole-order invoices"]),
            ("  for a shipment", c["shipment invoices"]),
            ("  down payments", c["down payment invoices"]),
            ("  from the ERP", c["ERP invoices"]),
            ("  with a down payment deducted", c["invoices with a down payment deducted"]),
            ("  paid in full", c["invoices paid"]),
            ("  partly paid", c["invoices partly paid"]),
            ("  cancelled (credited in full)", c["invoices cancelled"]),
            ("credit notes", credit_notes),
            ("  for returned lines", c["credit notes for returned lines"]),
            ("  for cancellations", c["credit notes for cancellations"]),
            ("  down payments deducted", c["credit notes down payments deducted"]),
            ("  from the ERP", c["credit notes from the ERP"]),
            ("refunds due (customer credit)", c["refunds due"]),
            ("  applied to an open invoice", c["refunds due applied to an open invoice"]),
            ("  paid back (refunds recorded)", c["refunds recorded"]),
            ("refusals (*.rejected)", c["rejected"]),
            *[(f"  {k}", v) for k, v in sorted(self.refusals.items())],
            ("dead letters", sum(self.dead_letters.values())),
        ]
        lines = ["funnel"] + [f"  {label:<38} {value:>7}" for label, value in rows]
        for currency, a in sorted(self.amounts.items()):
            lines.append(f"amounts ({currency})")
            outstanding = a["invoiced"] - a["credited"] - a["paid"] + a["refunded"]
            held = a["refunds due"] - a["refunded"] - a["customer credit applied"]
            for label, value in (
                ("won", a["won"]),
                ("invoiced", a["invoiced"]),
                ("credited", a["credited"]),
                ("paid", a["paid"]),
                ("refunded", a["refunded"]),
                ("outstanding (invoiced - credited - paid + refunded)", outstanding),
                ("refunds due", a["refunds due"]),
                ("customer credit applied", a["customer credit applied"]),
                ("customer credit held", held),
                ("down payments deducted", a["down payments deducted"]),
                (
                    "credit applied by invoice_svc (deductions, cancellations)",
                    a["credit applied by invoice_svc"],
                ),
            ):
                lines.append(f"  {label:<58} {value:>14,.2f}")
        if self.latencies_ms:
            p = percentiles(self.latencies_ms)
            lines.append(
                f"lead.captured -> invoice.posted latency ms: p50 {p[50]:.0f}  p95 {p[95]:.0f}  "
                f"p99 {p[99]:.0f}  (n={len(self.latencies_ms)})"
            )
        status = "complete" if not self.incomplete else f"INCOMPLETE: {self.incomplete} deals"
        lines.append(f"{c['captured']} deals in {self.seconds:.1f}s: {status}")
        lines += [f"  waiting: {line}" for line in self.stuck[:10]]
        return "\n".join(lines)


def percentiles(values: list[float]) -> dict[int, float]:
    ordered = sorted(values)
    return {
        q: ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
        for q in (50, 95, 99)
    }
