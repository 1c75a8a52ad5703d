"""How the operator's reports print: amounts, aligned text tables, CSV and JSON.

Pure: values in, text out. Money stays Decimal from the database to the printed digits; JSON
carries amounts as strings so that no reader turns them into floats on the way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from contracts.money import MINOR_UNITS


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def amount_text(amount: Decimal, currency: str) -> str:
    """`amount` with at least the currency's decimals (100 EUR -> 100.00, 5 JPY -> 5).

    Never rounded: a sub-cent amount in the books is a fact to see, not to hide. Scale left by
    NUMERIC arithmetic beyond the currency's decimals (100.0000) is dropped when it is zeros.
    """
    places = MINOR_UNITS.get(currency, 2)
    if amount.is_zero():
        amount = Decimal(0)  # no "-0.00" and no "0E-8"
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent > -places:
        return f"{amount.quantize(Decimal(1).scaleb(-places)):f}"
    return f"{amount.normalize():f}"


def table_text(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[int] = ()
) -> str:
    """Columns padded to their widest cell; the columns numbered in `right` align right."""
    body = [list(row) for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    to_right = set(right)

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if i in to_right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in body)])


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().rstrip("\n")


def json_text(value: Any) -> str:
    """Indented JSON: Decimal as a string (exact), dates ISO 8601, UUIDs as text."""
    return json.dumps(_plain(value), indent=2, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value
