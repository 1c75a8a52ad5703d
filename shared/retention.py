"""The inbox's retention: ids older than it are forgotten, so the inbox is the dedupe window.

A redelivery or replay older than the window would be applied again, which is why the window
must be at least as long as any input can be replayed (topic retention; README, "Retention").
Every worker process runs it: the delete is idempotent and cheap, and no election is needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from shared.failures import describe
from shared.mailbox import Mailbox

log = structlog.stdlib.get_logger("salesflow.retention")

PURGE_EVERY_S = 600.0


async def purge_inbox_forever(
    mailbox: Mailbox[Any], retention_s: float, every_s: float = PURGE_EVERY_S
) -> None:
    while True:
        try:
            purged = await mailbox.purge_inbox(retention_s)
        except Exception as error:  # noqa: BLE001 - housekeeping: try again next round
            log.warning("inbox_purge_failed", error=describe(error))
        else:
            log.info("inbox_purged", rows=purged)
        await asyncio.sleep(every_s)
