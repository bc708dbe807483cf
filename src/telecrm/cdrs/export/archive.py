"""The calls of the months retention archived (``cdrs/partitions``): read from their
Parquet files, in the export's columns and order, so that ``cdr export`` of an
archived month gives what it gave before the month was dropped."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from telecrm.cdrs.bulk import is_postgres
from telecrm.cdrs.export.repository import EXPORT_COLUMNS
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.partitions import repository as partitions
from telecrm.cdrs.partitions.service import archive_path
from telecrm.rating.types import RatingStatus

_CALLS_FILE = re.compile(r"^cdrs_(\d{4})_(\d{2})\.parquet$")


def archived_rows(
    session: Session, archive_dir: Path, start: dt.datetime, end: dt.datetime
) -> Iterator[Sequence[Any]]:
    """The archived calls starting in ``[start, end)``, oldest first, with their
    rating, as ``export_rows`` gives them. A month is read from its files only once
    its partitions are gone (while they are there, the database has its calls)."""
    if not is_postgres(session) or not archive_dir.is_dir():
        return
    live = {p.name for p in partitions.partitions(session, count_rows=False)}
    for path in sorted(archive_dir.iterdir()):
        found = _CALLS_FILE.match(path.name)
        if found is None or path.stem in live:
            continue
        year, month = int(found[1]), int(found[2])
        ratings = archive_path(archive_dir, "cdr_ratings", year, month)
        yield from _month_rows(path, ratings, start, end)


def _month_rows(
    calls_file: Path, ratings_file: Path, start: dt.datetime, end: dt.datetime
) -> Iterator[Sequence[Any]]:
    window = (pl.col("start_time") >= start) & (pl.col("start_time") < end)
    calls = pl.scan_parquet(calls_file).filter(window)
    ratings = pl.scan_parquet(ratings_file).filter(window).drop("start_time")
    rated = pl.col("cdr_id").is_not_null()
    stored = pl.col("status")
    # as models.rating_status_expression and lifecycle_status_expression say in SQL
    rating_status = (
        pl.when(rated)
        .then(pl.col("rating_status"))
        .when(stored == CdrState.INVALID.value)
        .then(None)
        .otherwise(pl.lit(RatingStatus.PENDING.value))
    )
    status = (
        pl.when(stored != CdrState.VALID.value)
        .then(stored)
        .when(pl.col("invoice_id").is_not_null())
        .then(pl.lit(CdrState.INVOICED.value))
        .when(rated)
        .then(pl.col("rating_status"))
        .otherwise(stored)
    )
    frame = (
        calls.join(ratings, left_on="id", right_on="cdr_id", how="left", coalesce=False)
        .with_columns(rating_status.alias("export_rating_status"), status.alias("export_status"))
        .drop("rating_status", "status")
        .rename({"export_rating_status": "rating_status", "export_status": "status"})
        .sort("start_time", "id")
        .select(EXPORT_COLUMNS)
        .collect()
    )
    findings = EXPORT_COLUMNS.index("validation_errors")
    for row in frame.iter_rows():
        text = row[findings]
        yield (*row[:findings], None if text is None else json.loads(text), *row[findings + 1 :])
