"""The inbox's retention: ids older than it are forgotten, so the inbox is the dedupe window.

A redelivery or replay older than the window would be applied again, which is why the window
must be at least as long as any input can be read again (`contracts.topics.REPLAY_WINDOW_MS`:
the topics' retention plus a segment; README, "Retention and replay"); a shorter one is
allowed (a deployment may replay less far back) but said at start.
Every worker process runs it: the delete is idempotent and cheap, and no election is needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from contracts.topics import REPLAY_WINDOW_MS
from shared.failures import describe
from shared.mailbox import Mailbox

log = structlog.stdlib.get_logger("salesflow.retention")

PURGE_EVERY_S = 600.0


async def purge_inbox_forever(
    mailbox: Mailbox[Any], retention_s: float, every_s: float = PURGE_EVERY_S
) -> None:
    if retention_s * 1000 < REPLAY_WINDOW_MS:
        log.warning(
            "inbox_window_shorter_than_topic_retention",
            inbox_retention_s=retention_s,
            replay_window_s=REPLAY_WINDOW_MS / 1000,
        )
    while True:
        try:
            purged = await mailbox.purge_inbox(retention_s)
        except Exception as error:  # noqa: BLE001 - housekeeping: try again next round
            log.warning("inbox_purge_failed", error=describe(error))
        else:
            log.info("inbox_purged", rows=purged)
        await asyncio.sleep(every_s)
