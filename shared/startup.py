"""A worker's start-up and its watch while it runs: wait for the servers, migrate, create
topics; then keep /readyz honest between batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber

from contracts.topics import TopicSpec
from shared.backoff import RetryPolicy, retry
from shared.failures import access_refused, describe, is_transient
from shared.health import Readiness
from shared.mailbox import Mailbox
from shared.migrations import upgrade_async
from shared.progress import PartitionProgress
from shared.settings import RuntimeSettings
from shared.topics_admin import ensure_topics

log = structlog.stdlib.get_logger("salesflow.startup")

STARTUP_BUDGET_S = 180.0
STARTUP_RETRY = RetryPolicy(initial_s=0.5, max_s=5.0, budget_s=STARTUP_BUDGET_S)
PROBE_EVERY_S = 2.0


async def until_available(what: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run a start-up step, retrying while its failure is about unreachable infrastructure."""

    def waiting(error: BaseException, delay: float) -> None:
        log.warning("startup_waiting", step=what, error=describe(error), retry_in_s=delay)

    def retryable(error: BaseException) -> bool:
        return is_transient(error) and access_refused(error) is None

    await retry(step, policy=STARTUP_RETRY, retryable=retryable, on_retry=waiting)


async def prepare(settings: RuntimeSettings, service: str, topics: list[TopicSpec]) -> None:
    """Migrate the service's schema and create its topics (both idempotent), when asked to."""
    if settings.migrate_on_start:
        await upgrade_async(settings.sqlalchemy_url(), service)
    if settings.create_topics_on_start:
        await ensure_topics(
            settings.kafka_bootstrap,
            topics,
            replication_factor=settings.kafka_replication_factor,
            security=settings.kafka_security,
        )


async def watch(
    mailbox: Mailbox[Any],
    broker: KafkaBroker,
    subscriber: BatchSubscriber,
    readiness: Readiness,
    progress: PartitionProgress,
) -> None:
    """Every few seconds: can the database and the broker be reached, are the partitions moving.
    An idle worker has no batch or relay pass that would notice an outage otherwise."""
    while True:
        await asyncio.sleep(PROBE_EVERY_S)
        try:
            async with asyncio.timeout(PROBE_EVERY_S):
                await mailbox.ping()
            readiness.set_database(ok=True)
        except Exception as error:  # noqa: BLE001 - a probe reports, it never stops the worker
            readiness.set_database(ok=False, detail=describe(error))
        with contextlib.suppress(Exception):
            ok = await broker.ping(timeout=PROBE_EVERY_S)
            readiness.set_broker(ok=bool(ok), detail="" if ok else "broker ping failed")
        consumer = subscriber.consumer
        if consumer is not None:
            try:
                await progress.sample(consumer, timeout_s=PROBE_EVERY_S)
            except Exception as error:  # noqa: BLE001 - a probe reports, it never stops the worker
                log.debug("progress_sample_failed", error=describe(error))
