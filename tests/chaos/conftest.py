"""The checker's fixture: a real history, recorded and trimmed (see test_checker.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos import archive
from chaos.history import History

FIXTURE = Path(__file__).parent / "data" / "small_history.json.gz"


@pytest.fixture
def history() -> History:
    return archive.load(FIXTURE)
