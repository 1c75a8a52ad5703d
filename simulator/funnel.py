"""The funnel the lifecycle driver reports: counts per outcome, amounts, latency percentiles."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Funnel:
    counts: Counter[str] = field(default_factory=Counter)
    amounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    latencies_ms: list[float] = field(default_factory=list)
    dead_letters: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    incomplete: int = 0
    stuck: list[str] = field(default_factory=list)

    def render(self) -> str:
        c, a = self.counts, self.amounts
        opps_open = c["qualified"] - c["opportunities won"] - c["opportunities lost"]
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
            ("  left open (expire after validity)", c["quotes left open"]),
            ("orders confirmed", c["orders confirmed"]),
            ("  fulfilled", c["orders fulfilled"]),
            ("  cancelled", c["orders cancelled"]),
            ("invoices posted", c["invoices posted"]),
            ("  paid in full", c["invoices paid"]),
            ("  partly paid", c["invoices partly paid"]),
            ("  cancelled", c["invoices cancelled"]),
            ("refusals (*.rejected)", c["rejected"]),
            ("dead letters", sum(self.dead_letters.values())),
        ]
        lines = ["funnel"] + [f"  {label:<38} {value:>7}" for label, value in rows]
        lines.append("amounts (EUR)")
        outstanding = a["invoiced"] - a["paid"] - a["invoice cancelled"]
        for label, value in (
            ("won", a["won"]),
            ("invoiced", a["invoiced"]),
            ("paid", a["paid"]),
            ("outstanding", outstanding),
        ):
            lines.append(f"  {label:<38} {value:>14,.2f}")
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
