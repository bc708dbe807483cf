"""The monthly partitions of ``cdrs`` and ``cdr_ratings`` (PostgreSQL; SQLite keeps one
table of each and every function here says so). A partition is a month of the billing
time zone, as invoices count them: ``ensure_partitions`` makes the months ahead (the
scheduled task), ``apply_retention`` archives a month past retention to Parquet and
drops it, never one an unpaid invoice holds calls of."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from telecrm.cdrs.bulk import is_postgres
from telecrm.cdrs.partitions import repository
from telecrm.cdrs.partitions.repository import PARTITIONED_TABLES, Partition
from telecrm.cdrs.partitions.usage import unpaid_invoices_of_window
from telecrm.clock import billing_month
from telecrm.config import Settings, get_settings

POSTGRES_ONLY = "partitions are PostgreSQL only: on SQLite each CDR table is one table"


@dataclass
class EnsureResult:
    supported: bool
    created: list[str] = field(default_factory=list)
    moved_rows: int = 0  # rows the new partitions took over from DEFAULT


def list_partitions(session: Session) -> list[Partition] | None:
    """Every partition with its rows and size; None on SQLite."""
    return repository.partitions(session) if is_postgres(session) else None


def _month(year: int, month: int, ahead: int = 0) -> tuple[int, int]:
    index = year * 12 + month - 1 + ahead
    return index // 12, index % 12 + 1


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_{year:04d}_{month:02d}"


def ensure_partitions(
    session: Session,
    months_ahead: int,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> EnsureResult:
    """Make the partitions of this billing month and the ``months_ahead`` after it,
    in both tables, where they are missing (run again, it makes none). Rows the
    DEFAULT partition holds for such a month move into it."""
    if not is_postgres(session):
        return EnsureResult(supported=False)
    tz = (settings or get_settings()).tz
    today = today or dt.datetime.now(tz).date()
    repository.lock_partitions(session)
    result = EnsureResult(supported=True)
    for ahead in range(months_ahead + 1):
        year, month = _month(today.year, today.month, ahead)
        ensure_month(session, year, month, tz, result)
    return result


def ensure_month(
    session: Session, year: int, month: int, tz: ZoneInfo, result: EnsureResult
) -> None:
    """The partitions of one billing month, where missing. A month whose name exists
    is there; otherwise its range is cut where it would overlap a partition made
    before (the billing time zone changed since): those hours stay in DEFAULT."""
    existing = repository.partitions(session, count_rows=False)
    for table in PARTITIONED_TABLES:
        name = partition_name(table, year, month)
        if any(p.name == name for p in existing):
            continue
        start, end = billing_month(year, month, tz)
        bounded = sorted(
            (p for p in existing if p.table == table and p.start and p.end),
            key=lambda p: p.start or start,
        )
        for other in bounded:
            assert other.start is not None and other.end is not None
            if other.start <= start < other.end:
                start = other.end
        for other in bounded:
            assert other.start is not None
            if start < other.start < end:
                end = other.start
        if start < end:
            result.moved_rows += repository.create_partition(session, table, name, start, end)
            result.created.append(name)
