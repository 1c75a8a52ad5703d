"""The worker's event loop choice (shared.event_loop): both loops run a coroutine to its end."""

from __future__ import annotations

import asyncio

import pytest

from shared import event_loop
from shared.settings import RuntimeSettings


async def _loop_class() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_is_the_default_and_runs_the_worker_coroutine() -> None:
    assert RuntimeSettings().event_loop == "uvloop"
    assert event_loop.run(_loop_class(), loop="uvloop").startswith("uvloop")


def test_asyncio_loop_stays_one_setting_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFLOW_EVENT_LOOP", "asyncio")
    chosen = RuntimeSettings().event_loop
    assert chosen == "asyncio"
    assert event_loop.run(_loop_class(), loop=chosen).startswith("asyncio")


def test_an_unknown_loop_is_refused_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFLOW_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        RuntimeSettings()
