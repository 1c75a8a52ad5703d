"""Prometheus metrics of one worker, in a registry of its own (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class WorkerMetrics:
    """Counters the runtime and relay update; exposed on /metrics."""

    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ["service"]
        reg = self.registry
        self.processed = Counter(
            "salesflow_messages_processed_total",
            "Messages whose effects were committed.",
            [*labels, "topic"],
            registry=reg,
        )
        self.rejected = Counter(
            "salesflow_commands_rejected_total",
            "Business refusals published as *.rejected events.",
            [*labels, "event_type"],
            registry=reg,
        )
        self.dead_lettered = Counter(
            "salesflow_messages_dead_lettered_total",
            "Poison messages parked on the dead-letter topic.",
            [*labels, "reason"],
            registry=reg,
        )
        self.duplicates = Counter(
            "salesflow_duplicates_dropped_total",
            "Deliveries whose event id the inbox had already seen.",
            labels,
            registry=reg,
        )
        self.transient_errors = Counter(
            "salesflow_transient_errors_total",
            "Batches retried because PostgreSQL or Kafka was unavailable.",
            labels,
            registry=reg,
        )
        self.batch_size = Histogram(
            "salesflow_batch_size",
            "Records per consumed batch.",
            labels,
            buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000),
            registry=reg,
        )
        self.batch_seconds = Histogram(
            "salesflow_batch_seconds",
            "Time to handle one batch, transaction and offset commit included.",
            labels,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=reg,
        )
        self.published = Counter(
            "salesflow_outbox_published_total",
            "Outbox rows the relay delivered to Kafka.",
            labels,
            registry=reg,
        )
        self.outbox_backlog = Gauge(
            "salesflow_outbox_backlog", "Rows waiting in the outbox.", labels, registry=reg
        )
        self.outbox_oldest_age = Gauge(
            "salesflow_outbox_oldest_age_seconds",
            "Age of the oldest row waiting in the outbox.",
            labels,
            registry=reg,
        )

        self.consumer_lag = Gauge(
            "salesflow_consumer_lag",
            "Records on an assigned partition beyond this member's position (high watermark "
            "minus position), sampled every few seconds.",
            [*labels, "topic", "partition"],
            registry=reg,
        )
        self.partition_stalled = Gauge(
            "salesflow_partition_stalled_seconds",
            "How long an assigned partition's position has not moved while records wait on it "
            "(0 while it moves or nothing waits).",
            [*labels, "topic", "partition"],
            registry=reg,
        )

        # What the business sees move, derived from the events a worker commits (counted once,
        # at the commit of the transaction that emits them): deals qualified are
        # event_type="lead.qualified", orders confirmed "order.confirmed", invoices posted
        # "invoice.posted"; the amounts they carry per currency (shared.measures).
        self.emitted = Counter(
            "salesflow_events_emitted_total",
            "Events committed to the outbox, by event type (rejections included).",
            [*labels, "event_type"],
            registry=reg,
        )
        self.amounts = Counter(
            "salesflow_event_amount_total",
            "Money carried by committed events (a document's grand total, a payment's amount), "
            "by event type and currency; a float, for dashboards, never for accounting.",
            [*labels, "event_type", "currency"],
            registry=reg,
        )
        self.hop_latency = Histogram(
            "salesflow_hop_latency_seconds",
            "From a record's timestamp on its topic (when its producer sent it) to the commit "
            "of the batch that applied it: the latency of one hop of a deal.",
            [*labels, "topic"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=reg,
        )
        self.dead_letter_depth = Gauge(
            "salesflow_dead_letter_depth",
            "Records kept on this service's dead-letter topic (end minus start offsets, all "
            "partitions), sampled every few seconds; a redrive does not lower it, retention does.",
            labels,
            registry=reg,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
