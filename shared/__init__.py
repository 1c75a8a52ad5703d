"""Plumbing shared by every salesflow worker, written once and free of business words.

Settings, logging, the database engine, the inbox/outbox tables, the effectively-once batch
consumer runtime, the outbox relay, dead-lettering, health and metrics, and the clock.
Services plug their pure decisions into `shared.consumer.BatchRuntime` through the `Stage`
protocol; nothing here knows what a lead or an invoice is.
"""
