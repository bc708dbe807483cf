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
from telecrm.errors import ArchiveNotVerified, ValidationFailed

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


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` -> the first day of that month."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ValidationFailed(
            f"--from {text!r} is not a month (YYYY-MM)",
            [{"field": "--from", "message": "not YYYY-MM"}],
        ) from exc


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


def archive_path(archive_dir: Path, table: str, year: int, month: int) -> Path:
    """A month's archive of one table: ``<dir>/<table>_<YYYY>_<MM>.parquet``."""
    return archive_dir / f"{partition_name(table, year, month)}.parquet"


@dataclass
class MonthRetention:
    month: str  # YYYY-MM of the billing time zone
    rows: dict[str, int]  # per table
    outcome: str  # archived, to archive (dry run), refused
    reason: str = ""  # why it was refused
    files: list[Path] = field(default_factory=list)


@dataclass
class RetentionResult:
    supported: bool
    enabled: bool = False
    cutoff: dt.datetime | None = None  # the months before it are past retention
    months: list[MonthRetention] = field(default_factory=list)


def apply_retention(
    session: Session,
    settings: Settings | None = None,
    dry_run: bool = False,
    today: dt.date | None = None,
) -> RetentionResult:
    """Archive each month past ``TELECRM_CDR_RETENTION_MONTHS`` (whole billing months
    before this one) to Parquet, one file per table, read back and counted, then drop
    its partitions and the CRM sync log of its calls. A month that holds calls of an
    invoice not paid, or the period of one, is refused and kept, naming the invoice.
    Run again after a crash, it archives again what was not dropped: nothing is lost
    and nothing is dropped before its file is verified."""
    settings = settings or get_settings()
    if not is_postgres(session):
        return RetentionResult(supported=False)
    if settings.cdr_retention_months is None:
        return RetentionResult(supported=True)
    tz = settings.tz
    today = today or dt.datetime.now(tz).date()
    year, month = _month(today.year, today.month, -settings.cdr_retention_months)
    cutoff, _ = billing_month(year, month, tz)
    result = RetentionResult(supported=True, enabled=True, cutoff=cutoff)
    repository.lock_partitions(session)
    found = {p.name: p for p in repository.partitions(session)}
    past = sorted(
        (p for p in found.values() if p.table == PARTITIONED_TABLES[0] and p.end),
        key=lambda p: p.name,
    )
    past = [p for p in past if p.end is not None and p.end <= cutoff]
    for calls in past:
        year, month = (int(part) for part in calls.name.rsplit("_", 2)[1:])
        names = [partition_name(table, year, month) for table in PARTITIONED_TABLES]
        parts = [found[name] for name in names if name in found]
        entry = MonthRetention(f"{year:04d}-{month:02d}", {p.table: p.rows for p in parts}, "")
        result.months.append(entry)
        assert calls.start is not None and calls.end is not None
        unpaid = unpaid_invoices_of_window.ask(session, calls.start, calls.end)
        if unpaid:
            entry.outcome = "refused"
            entry.reason = "; ".join(
                f"invoice {number} is {status}, not paid" for number, status in unpaid
            )
            continue
        if dry_run:
            entry.outcome = "to archive"
            continue
        repository.lock_month(session, [p.name for p in parts])
        for part in parts:
            entry.files.append(
                _archive(
                    session, part, archive_path(settings.cdr_archive_dir, part.table, year, month)
                )
            )
        repository.delete_sync_log_of(session, calls.name)
        for part in reversed(parts):
            repository.drop_partition(session, part.name)
        entry.outcome = "archived"
    return result


def _archive(session: Session, part: Partition, path: Path) -> Path:
    """Write the partition's rows to ``path`` (through a temporary file, so a file
    under that name is always whole) and read its row count back."""
    frame = repository.read_partition(session, part.table, part.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    frame.write_parquet(partial)
    written = pl.scan_parquet(partial).select(pl.len()).collect().item()
    if not written == frame.height == part.rows:
        raise ArchiveNotVerified(
            f"the archive of {part.name} holds {written} rows, the partition {part.rows}: "
            "nothing was dropped"
        )
    partial.replace(path)
    return path
