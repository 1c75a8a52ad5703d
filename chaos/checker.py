"""The invariants, checked over a `History` after quiescence.

Flow invariants live here (nothing lost, nothing applied twice, nothing from a rolled-back
transaction, poison answered, quiescence); the business ones (one opportunity, order, invoice per
deal step, totals to the cent, legal transitions in per-deal order) in `chaos.business`.
Each invariant returns a `Result` with how many things it checked and every violation found; a
run passes when no invariant has a violation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from chaos.history import History, Rec
from contracts.topics import TopicKind, topic

SAMPLES = 12
REJECTED = {
    "lead_svc": "lead.rejected",
    "quote_svc": "quote.rejected",
    "order_svc": "order.rejected",
    "invoice_svc": "invoice.rejected",
}


@dataclass
class Result:
    name: str
    description: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.violations

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "checked": self.checked,
            "violations": len(self.violations),
            "samples": self.violations[:SAMPLES],
            "counts": self.counts,
        }


def producer_of(topic_name: str) -> str | None:
    """The service that publishes an outbound topic (None for inbound and dead-letter topics)."""
    spec = topic(topic_name)
    return spec.owner if spec.kind is TopicKind.OUTBOUND else None


class Index:
    """The history arranged for the checks: one entry per distinct event (its first copy)."""

    def __init__(self, history: History) -> None:
        self.h = history
        self.copies: dict[UUID, list[Rec]] = defaultdict(list)
        self.dead_letters: dict[tuple[str, int, int], list[Rec]] = defaultdict(list)
        for r in history.records:
            if r.is_dead_letter:
                source = r.source
                if source is not None:
                    self.dead_letters[source].append(r)
            elif r.env is not None:
                self.copies[r.env.event_id].append(r)
        # The original of each event: the lowest offset of its first topic (a copy published
        # later lands after it on the same partition).
        self.first: dict[UUID, Rec] = {
            eid: min(recs, key=lambda r: (r.timestamp_ms, r.offset))
            for eid, recs in self.copies.items()
        }
        self.by_type: dict[str, list[Rec]] = defaultdict(list)
        for r in sorted(self.first.values(), key=lambda r: (r.topic, r.partition, r.offset)):
            assert r.env is not None
            self.by_type[r.env.event_type].append(r)

    def of_type(self, *event_types: str) -> list[Rec]:
        return [r for et in event_types for r in self.by_type.get(et, [])]

    def outputs(self) -> list[Rec]:
        """Distinct events published by the services (outbound topics)."""
        return [r for r in self.first.values() if producer_of(r.topic) is not None]

    def grouped(self, recs: Iterable[Rec], key: Callable[[Rec], Any]) -> dict[Any, list[Rec]]:
        groups: dict[Any, list[Rec]] = defaultdict(list)
        for r in recs:
            groups[key(r)].append(r)
        return groups


def p(r: Rec) -> Any:
    """The payload of a decoded record."""
    assert r.env is not None
    return r.env.payload


# --- flow invariants --------------------------------------------------------------------------


def quiescence(ix: Index) -> Result:
    res = Result("quiescence", "after the load: every group's lag is 0 and every outbox is empty")
    for group, lag in sorted(ix.h.lag.items()):
        res.checked += 1
        if lag:
            res.fail(f"consumer group {group} is {lag} records behind")
    for service, rows in sorted(ix.h.db.outbox_rows.items()):
        res.checked += 1
        if rows:
            res.fail(f"{service}.outbox still holds {rows} rows")
    return res


def accounting(ix: Index) -> Result:
    """produced = processed + dead-lettered + rejected, per consuming service."""
    res = Result(
        "accounting",
        "every record a service consumes is applied (inbox), rejected, or dead-lettered: "
        "produced = processed + dead-lettered + rejected, nothing lost, nothing both",
    )
    rejected_ids = {
        service: {p(r).command_event_id for r in ix.of_type(event_type)}
        for service, event_type in REJECTED.items()
    }
    for service, topics in sorted(ix.h.consumes.items()):
        dlq = f"{service}.dlq"
        inbox = ix.h.db.inbox.get(service, set())
        coords: dict[Any, list[tuple[str, int, int]]] = defaultdict(list)
        for r in ix.h.records:
            if r.topic in topics and r.topic != "catalog.prices":
                identity: Any = (
                    r.env.event_id if r.env is not None else (r.topic, r.partition, r.offset)
                )
                coords[identity].append((r.topic, r.partition, r.offset))
        counts = {"produced": 0, "processed": 0, "rejected": 0, "dead_lettered": 0}
        for identity, places in coords.items():
            counts["produced"] += 1
            applied = isinstance(identity, UUID) and identity in inbox
            dead = any(
                any(d.topic == dlq for d in ix.dead_letters.get(place, [])) for place in places
            )
            if applied and dead:
                res.fail(f"{service}: {identity} was applied and dead-lettered")
            elif applied and identity in rejected_ids[service]:
                counts["rejected"] += 1
            elif applied:
                counts["processed"] += 1
            elif dead:
                counts["dead_lettered"] += 1
            else:
                res.fail(f"{service}: {identity} at {places[0]} was lost (not applied, not parked)")
        res.checked += counts["produced"]
        for name, value in counts.items():
            res.counts[f"{service}.{name}"] = value
        accounted = counts["processed"] + counts["rejected"] + counts["dead_lettered"]
        if counts["produced"] != accounted:
            res.fail(
                f"{service}: produced {counts['produced']} != processed {counts['processed']} + "
                f"dead-lettered {counts['dead_lettered']} + rejected {counts['rejected']}"
            )
    return res


# What an event is about, where a type's cause may have several such effects (a cancellation
# credits several invoices, a payment spread over invoices pays each, a shipment read ahead of
# its order is billed by the confirmation together with the down payment).
SUBJECTS: dict[str, tuple[str, ...]] = {
    "invoice.posted": ("invoice_id",),
    "invoice.paid": ("payment_id", "invoice_id"),
    "invoice.credited": ("credit_note_id",),
    "invoice.cancelled": ("invoice_id",),
    "refund.due": ("invoice_id", "payment_id", "credit_note_id"),
    "invoice.refunded": ("refund_id",),
    "invoice.credit_applied": ("application_id", "invoice_id"),
    "order.invoiced": ("order_id", "document_id"),
}


def _subject(event_type: str, payload: Any) -> Any:
    if event_type in SUBJECTS:
        return tuple(getattr(payload, name, None) for name in SUBJECTS[event_type])
    for name in ("payment_id", "invoice_id", "order_id", "command_event_id"):
        value = getattr(payload, name, None)
        if value is not None:
            return (name, value)
    if getattr(payload, "quote_id", None) is not None:
        return ("quote", payload.quote_id, getattr(payload, "revision", None))
    for name in ("opportunity_id", "lead_id"):
        value = getattr(payload, name, None)
        if value is not None:
            return (name, value)
    return None


def effects_once(ix: Index) -> Result:
    res = Result(
        "effects_once",
        "each cause has each effect once: one event id per (type, cause, subject), one "
        "invoice.paid and one payment row per payment and invoice",
    )
    signatures: dict[Any, set[UUID]] = defaultdict(set)
    for r in ix.outputs():
        assert r.env is not None
        signatures[
            (r.env.event_type, r.env.causation_id, _subject(r.env.event_type, r.env.payload))
        ].add(r.env.event_id)
    res.checked = len(signatures)
    for (event_type, cause, subject), ids in signatures.items():
        if len(ids) > 1:
            res.fail(f"{event_type} for {subject} caused by {cause} published {len(ids)} times")
    per_payment = ix.grouped(
        ix.of_type("invoice.paid"), lambda r: (p(r).payment_id, p(r).invoice_id)
    )
    for (payment_id, invoice_id), events in per_payment.items():
        if len(events) > 1:
            res.fail(
                f"payment {payment_id} was applied {len(events)} times to invoice {invoice_id}"
            )
    rows: dict[tuple[str, UUID], int] = defaultdict(int)
    for row in ix.h.db.payments:
        rows[(row.payment_id, row.invoice_id)] += 1
    for (payment_id, invoice_id), n in rows.items():
        if n > 1:
            res.fail(f"payment {payment_id} has {n} rows for invoice {invoice_id}")
    copies = sum(len(c) - 1 for c in ix.copies.values())
    res.counts["redelivered_copies_on_topics"] = copies
    return res


def duplicates_observed(ix: Index) -> Result:
    res = Result(
        "duplicates_observed",
        "the workers' inboxes really dropped duplicate deliveries (counter > 0) in a run with "
        "crash or duplicate faults; otherwise the run did not test dedupe",
    )
    res.checked = 1
    res.counts["duplicates_dropped"] = ix.h.duplicates_dropped
    res.counts["redelivered_copies_on_topics"] = sum(len(c) - 1 for c in ix.copies.values())
    if ix.h.dedupe_required and ix.h.duplicates_dropped <= 0:
        res.fail("no duplicate delivery was dropped by any inbox although the faults demand it")
    return res


def _committed(ix: Index, r: Rec, rows: _Rows) -> str | None:  # noqa: PLR0912 - one case per event type
    """Why the effect `r` announces is not in the producer's committed state (None: it is)."""
    db, et, pl = ix.h.db, r.env.event_type if r.env else "", p(r)
    if et in ("lead.qualified", "lead.disqualified"):
        lead = db.leads.get(pl.lead_id)
        want = "qualified" if et == "lead.qualified" else "disqualified"
        if lead is None or lead.state != want:
            return f"lead {pl.lead_id} is {lead.state if lead else 'absent'}, not {want}"
        if et == "lead.qualified" and lead.opportunity_id != pl.opportunity_id:
            return f"lead {pl.lead_id} names opportunity {lead.opportunity_id}"
        return None
    if et.startswith(("quote.", "opportunity.")) and not et.endswith(".rejected"):
        if et == "opportunity.closed":
            opp = rows.opportunities.get(pl.opportunity_id)
            if opp is None or opp.state != pl.outcome.value:
                return f"opportunity {pl.opportunity_id} not {pl.outcome.value} in quote_svc"
            return None
        if et.startswith("opportunity."):  # opened, updated: a later change may follow
            if pl.opportunity_id not in rows.opportunities:
                return f"opportunity {pl.opportunity_id} absent from quote_svc"
            return None
        quote = rows.quotes.get(pl.quote_id)
        if quote is None or quote.revision != pl.revision:
            return f"quote {pl.quote_id} rev {pl.revision} absent from quote_svc"
        want_state = {"quote.accepted": "won", "quote.closed": "closed"}.get(et)
        if want_state and quote.state != want_state:
            return f"quote {pl.quote_id} is {quote.state}, not {want_state}"
        return None
    if et.startswith("order.") and not et.endswith(".rejected"):
        order = rows.orders.get(pl.order_id)
        if order is None:
            return f"order {pl.order_id} absent from order_svc"
        if et == "order.cancelled" and order.state != "canceled":
            return f"order {pl.order_id} is {order.state}, not canceled"
        return None
    if et == "invoice.paid":
        if pl.payment_id not in rows.payments:
            return f"payment {pl.payment_id} absent from invoice_svc"
        return None
    if et in ("invoice.credited", "invoice.refunded", "invoice.credit_applied", "refund.due"):
        return _committed_money(rows, et, pl)
    if et == "invoice.handoff_stale":
        return None  # the held ERP invoice may have been released by its order since
    if et.startswith("invoice.") and not et.endswith(".rejected"):
        invoice = rows.invoices.get(pl.invoice_id)
        if invoice is None:
            return f"invoice {pl.invoice_id} absent from invoice_svc"
        if et == "invoice.cancelled" and invoice.state != "canceled":
            return f"invoice {pl.invoice_id} is {invoice.state}, not canceled"
        return None
    return None


@dataclass(frozen=True)
class _Rows:
    """The committed rows `_committed` looks events up in, indexed once."""

    opportunities: dict[UUID, Any]
    quotes: dict[UUID, Any]
    orders: dict[UUID, Any]
    invoices: dict[UUID, Any]
    payments: frozenset[str]
    credit_notes: frozenset[UUID]
    refunds: frozenset[str]
    applications: frozenset[str]
    order_of: dict[UUID, UUID]  # invoice -> order
    moved: dict[UUID, Decimal]  # order -> moved to customer credit, all its invoices


def _rows(ix: Index) -> _Rows:
    db = ix.h.db
    moved: dict[UUID, Decimal] = defaultdict(Decimal)
    for i in db.invoices:
        moved[i.order_id] += i.moved_to_credit
    return _Rows(
        {o.opportunity_id: o for o in db.opportunities},
        {q.quote_id: q for q in db.quotes},
        {o.order_id: o for o in db.orders},
        {i.invoice_id: i for i in db.invoices},
        frozenset(x.payment_id for x in db.payments),
        frozenset(n.credit_note_id for n in db.credit_notes),
        frozenset(r.refund_id for r in db.refunds),
        frozenset(e.document_id for e in db.entries if e.kind == "credit_applied"),
        {i.invoice_id: i.order_id for i in db.invoices},
        dict(moved),
    )


def _committed_money(rows: _Rows, et: str, pl: Any) -> str | None:
    if et == "invoice.credited":
        if pl.credit_note_id not in rows.credit_notes:
            return f"credit note {pl.credit_note_id} absent from invoice_svc"
    elif et == "invoice.refunded":
        if pl.refund_id not in rows.refunds:
            return f"refund {pl.refund_id} absent from invoice_svc"
    elif et == "invoice.credit_applied":
        if pl.application_id not in rows.applications:
            return f"credit application {pl.application_id} has no receivable entry"
    else:  # refund.due: money moved off the invoice, or off others of its order
        order = rows.order_of.get(pl.invoice_id)
        if order is None or rows.moved.get(order, Decimal(0)) < pl.amount:
            return f"invoice {pl.invoice_id}'s order moved less than {pl.amount} to credit"
    return None


def no_rolled_back_events(ix: Index) -> Result:
    res = Result(
        "no_rolled_back_events",
        "every published event comes from a committed transaction: its cause is in the "
        "producer's inbox and the state it announces is in the producer's tables",
    )
    rows = _rows(ix)
    for r in ix.outputs():
        assert r.env is not None
        service = producer_of(r.topic)
        assert service is not None
        res.checked += 1
        cause = r.env.causation_id
        if cause is None or cause not in ix.h.db.inbox.get(service, set()):
            res.fail(f"{r.env.event_type} {r.env.event_id}: cause {cause} not in {service}'s inbox")
            continue
        problem = _committed(ix, r, rows)
        if problem:
            res.fail(f"{r.env.event_type} {r.env.event_id}: {problem}")
    return res


def poison_answered(ix: Index) -> Result:
    res = Result(
        "poison_answered",
        "every poison record is dead-lettered with its reason and its source coordinates, every "
        "business-invalid command gets exactly one *.rejected, and neither has any other effect",
    )
    rejections: dict[UUID, list[Rec]] = defaultdict(list)
    for r in ix.of_type(*REJECTED.values()):
        rejections[p(r).command_event_id].append(r)
    for planned in ix.h.poison:
        res.checked += 1
        res.counts[planned.kind] = res.counts.get(planned.kind, 0) + 1
        label = f"{planned.kind} on {planned.topic}@{planned.partition}:{planned.offset}"
        parked = [
            d
            for d in ix.dead_letters.get((planned.topic, planned.partition, planned.offset), [])
            if d.topic == f"{planned.service}.dlq"
        ]
        applied = planned.event_id is not None and planned.event_id in ix.h.db.inbox.get(
            planned.service, set()
        )
        if planned.expect == "rejected":
            answers = rejections.get(planned.event_id, []) if planned.event_id else []
            if len(answers) != 1 or answers[0].topic != REJECTED[planned.service]:
                res.fail(f"{label}: {len(answers)} rejections instead of one")
            if parked:
                res.fail(f"{label}: dead-lettered, but it is a valid command")
            continue
        reason = planned.expect.removeprefix("dlq:")
        if not parked:
            res.fail(f"{label}: not dead-lettered (expected {reason})")
        elif {d.header("dlq.reason") for d in parked} != {reason}:
            res.fail(f"{label}: dead-lettered as {[d.header('dlq.reason') for d in parked]}")
        if applied:
            res.fail(f"{label}: applied by {planned.service} although it is poison")
    poison_deals = {planned.key for planned in ix.h.poison}
    for r in ix.outputs():
        if r.key in poison_deals and not r.topic.endswith(".rejected"):
            res.fail(f"poison deal {r.key} caused {r.topic}")
    return res
