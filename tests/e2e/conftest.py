"""The module-wide pipeline of the end-to-end suites: the four workers as processes, started
once for the package, with the sample price list loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.stages import STAGE_NAMES
from salesflow.catalog import load_price_list, wait_until_quote_svc_holds
from tests.support.infra import REPO, Endpoints
from tests.support.kafka_probe import TopicReader
from tests.support.pipeline import WATCHED, Pipeline


@pytest.fixture(scope="package")
async def pipeline(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    reader = await TopicReader(endpoints.kafka, WATCHED).start()
    engine = create_async_engine(endpoints.database_url)
    pipe = Pipeline(endpoints, tmp_path_factory.mktemp("workers"), reader, engine)
    try:
        for stage in STAGE_NAMES:
            await pipe.start(stage)
        items = await load_price_list(endpoints.kafka, REPO / "samples" / "price_list.csv")
        await wait_until_quote_svc_holds(endpoints.database_url, items)
        yield pipe
    finally:
        for stage in list(pipe.workers):
            pipe.stop(stage)
        await reader.stop()
        await engine.dispose()
