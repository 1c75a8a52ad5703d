"""`salesflow leads import` on real Kafka and PostgreSQL: a CSV of 10,000 leads with some bad
rows, imported twice through the command line, gives each good lead once (one outcome per lead,
no refusal) and the same precise error list both times."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TypeAlias

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.infra import Endpoints
from tests.support.kafka_probe import TopicReader
from tests.support.leads import new_run_id
from tests.support.workers import lead_worker

pytestmark = pytest.mark.integration

Record: TypeAlias = ConsumerRecord[bytes, bytes]
ROWS = 10_000
OUTCOMES = ("lead.qualified", "lead.disqualified", "lead.opened", "lead.rejected")
HEADER = "lead_id,company_name,first_name,last_name,email,currency,product_interests,notes"
COMPANIES = ("Globex {n}", "ООО Ромашка {n}", "株式会社テスト{n}", "Müller & Söhne {n} GmbH")


def _csv(run: str) -> tuple[str, list[str], int]:
    """The file, the errors it must produce (as printed), and its number of good rows."""
    lines, errors, good = [HEADER], [], 0
    for i in range(ROWS):
        row = 2 + i  # spreadsheet numbering: the header is row 1
        lead_id = f"I{run}-{i:05d}"
        company = COMPANIES[i % len(COMPANIES)].format(n=f"{run}-{i}")
        fields = [lead_id, company, f"Name{i}", f"Family{i}", f"p{i}.{run}@example.com"]
        fields += ["EUR", "SKU-1:2;SKU-2:1", "imported"]
        match i % 250 if i else -1:
            case 50:
                fields[5] = "EURO"
                errors.append(f"row {row}: currency:")
            case 100:
                fields[4] = "not-an-email"
                errors.append(f"row {row}: contact.email:")
            case 150:
                fields[2] = ""
                errors.append(f"row {row}: contact.first_name:")
            case 200:
                fields[6] = "SKU-1:lots"
                errors.append(f"row {row}: product_interests.0.quantity:")
            case 249:
                fields[0] = f"I{run}-{i - 1:05d}"  # the previous row's lead again
                errors.append(f"row {row}: lead_id: same lead as row {row - 1}")
            case _:
                good += 1
        lines.append(",".join(f'"{f}"' if "," in f else f for f in fields))
    return "\n".join(lines) + "\n", errors, good


async def _import(endpoints: Endpoints, file: Path) -> tuple[int, str, str]:
    cli = Path(sys.executable).with_name("salesflow")
    env = {**os.environ, "SALESFLOW_KAFKA_BOOTSTRAP": endpoints.kafka}
    process = await asyncio.create_subprocess_exec(
        str(cli),
        "leads",
        "import",
        str(file),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _stored(endpoints: Endpoints, prefix: str) -> int:
    engine = create_async_engine(endpoints.database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM lead_svc.leads WHERE lead_id LIKE :p"),
                {"p": f"{prefix}%"},
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_a_large_file_imported_twice_gives_each_good_lead_once(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    run = new_run_id()
    content, expected_errors, good = _csv(run)
    file = tmp_path / "leads.csv"
    file.write_text(content, encoding="utf-8")
    prefix = f"I{run}-"

    def ours(records: list[Record]) -> list[Record]:
        return [r for r in records if r.key and r.key.decode().startswith(prefix)]

    reader = await TopicReader(endpoints.kafka, OUTCOMES).start()
    try:
        async with lead_worker(endpoints):
            code, out, err = await _import(endpoints, file)
            assert code == 2, out + err  # some rows refused
            assert f"{ROWS} rows, {good} valid, {len(expected_errors)} refused" in out
            printed = [line for line in err.splitlines() if line.startswith("row ")]
            assert [p[: len(e)] for p, e in zip(printed, expected_errors, strict=True)] == (
                expected_errors
            )
            await reader.collect(lambda rs: len(ours(rs)) >= good, timeout_s=240)

            again, out, err = await _import(endpoints, file)
            assert again == 2
            assert [line for line in err.splitlines() if line.startswith("row ")] == printed
            records = ours(await reader.settle(3.0))
    finally:
        await reader.stop()

    per_lead = Counter(r.key for r in records)
    topics = Counter(r.topic for r in records)
    assert len(per_lead) == good
    assert set(per_lead.values()) == {1}, per_lead.most_common(3)
    assert topics["lead.rejected"] == 0
    assert await _stored(endpoints, prefix) == good
