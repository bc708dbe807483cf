"""The CDR export: the calls of a window with their rating, one row each, as CSV or
JSON, streamed."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.cdrs.export import archive, repository
from telecrm.cdrs.listing import service as listing_service
from telecrm.cdrs.listing.filters import CdrFilters
from telecrm.config import get_settings
from telecrm.contracts.scope import ContractScope
from telecrm.csvexport import CellKind, Writer
from telecrm.rating.types import RatingStatus


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


_EXPORT_BATCH = 10_000
# The export's columns of numbers (see ``telecrm.csvexport``); the others are text.
_EXPORT_KINDS = {
    "id": CellKind.NUMBER,
    "src": CellKind.PHONE,
    "dst": CellKind.PHONE,
    "billsec": CellKind.NUMBER,
    "cleaned_number": CellKind.PHONE,
    "rate_id": CellKind.NUMBER,
    "billable_seconds": CellKind.NUMBER,
    "cost": CellKind.NUMBER,
}


def export(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    output_format: str,
    out: TextIO,
    archive_dir: Path | None = None,
) -> int:
    """Write the CDRs of ``[start, end)``, oldest first, one row each, as CSV (with a
    header) or a JSON array; streamed, one batch in memory. Returns how many. The
    months retention archived are read from their Parquet files (``archive_dir``,
    ``TELECRM_CDR_ARCHIVE_DIR`` by default); they are older than those kept."""
    archived = archive.archived_rows(
        session, archive_dir or get_settings().cdr_archive_dir, start, end
    )
    rows = itertools.chain(archived, repository.export_rows(session, start, end, _EXPORT_BATCH))
    return write(rows, output_format, out)


def export_filtered(
    session: Session,
    scope: ContractScope,
    filters: CdrFilters,
    tz: ZoneInfo,
    output_format: str,
    out: TextIO,
) -> int:
    """The calls a listing shows for ``filters`` (times without a zone in ``tz``),
    newest first, as ``export`` writes them: the console's "export this search"."""
    filters = listing_service.in_instants(filters, tz)
    rows = repository.filtered_rows(session, scope, filters, _EXPORT_BATCH)
    return write(rows, output_format, out)


def write(rows: Iterable[Sequence[Any]], output_format: str, out: TextIO) -> int:
    """``rows`` of ``EXPORT_COLUMNS`` as CSV (with a header) or a JSON array."""
    names = repository.EXPORT_COLUMNS
    count = 0
    if ExportFormat(output_format) is ExportFormat.CSV:
        writer = Writer(out, {name: _EXPORT_KINDS.get(name, CellKind.TEXT) for name in names})
        for row in rows:
            writer.writerow(["" if value is None else _text(value) for value in row])
            count += 1
        return count
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(dict(zip(names, (_json(value) for value in row), strict=True))))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _text(value: Any) -> str:
    if isinstance(value, list):  # validation findings
        return ";".join(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value.value if isinstance(value, RatingStatus) else value)


def _json(value: Any) -> Any:
    # money as a string: a JSON number would be read back as a float
    if value is None or (
        isinstance(value, int | str | list) and not isinstance(value, RatingStatus)
    ):
        return value
    return _text(value)
