"""CDR import, rating (``process-billing``) and export. Services never commit: the
CLI command or job wrapper does, and for a file import it commits once per batch
(``import_file`` yields after each one), so that a crash or Ctrl-C keeps every batch
before it and a re-run of the same file continues after the last one."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from sqlalchemy.orm import Session

from telecrm.cdrs import records, repository
from telecrm.cdrs.formats import PARSERS, FileFormat
from telecrm.cdrs.formats.base import Chunk, Parsed, read_chunks
from telecrm.cdrs.lifecycle import validation
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import CdrImport, CdrReject
from telecrm.config import Settings
from telecrm.csvexport import CellKind, Writer
from telecrm.db import utcnow
from telecrm.errors import NotFound, ValidationFailed
from telecrm.rating import engine
from telecrm.rating.policy import RatingPolicy
from telecrm.rating.types import RatingStatus

_RESUMABLE_HASH_BLOCK = 1 << 20
# A reject keeps the text of its one line, up to this many characters: a CDR line is
# far shorter, and a file that is one long "line" (no line ends) is not kept whole.
MAX_REJECT_RAW = 4096


def _reject_text(text: str) -> str:
    """Text as a reject keeps it: one line, at most MAX_REJECT_RAW characters, NUL
    (which PostgreSQL's text cannot hold) written as the four characters ``\\x00``."""
    line = text.split("\n", 1)[0]
    shown = line.replace(records.NUL, "\\x00")
    if len(shown) <= MAX_REJECT_RAW:
        return shown
    marker = f" [cut: {len(line)} characters in all]"
    return shown[: MAX_REJECT_RAW - len(marker)] + marker


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r} (use an IANA name)") from exc


def day_window(first: dt.date, last: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """From midnight starting ``first`` to midnight ending ``last`` in ``zone``, as UTC
    instants (a day of a clock change is 23 or 25 hours long, as it should be)."""
    if last < first:
        raise ValidationFailed(f"the window ends ({last}) before it starts ({first})")
    tz = zone_info(zone)
    start = dt.datetime.combine(first, dt.time(), tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


# --- import -------------------------------------------------------------------


@dataclass
class BatchCounts:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class _Prepared:
    """A batch ready to store: its new-looking rows (each key once), how many calls it
    had, and its rejects (``line``, ``reason``)."""

    rows: pl.DataFrame
    calls: int
    rejects: pl.DataFrame


def _prepare(parsed: Parsed, zone: str, source: str | None, import_id: int | None) -> _Prepared:
    rows, bad = records.stored_rows(parsed.rows, zone, source, import_id, parsed.nul_free)
    unique = rows
    if rows.get_column("unique_key").n_unique() < rows.height:
        unique = rows.filter(pl.col("unique_key").is_first_distinct())
    return _Prepared(
        _validated(unique.drop("line")), rows.height, pl.concat([parsed.rejects, bad]).sort("line")
    )


def _validated(rows: pl.DataFrame) -> pl.DataFrame:
    """Each call stored already validated (seed 000): ``valid``, or ``invalid`` when a
    finding makes it unbillable; either way with every finding. Done here, in the same
    write, so an invalid call is never rated nor billed, and a million calls are not
    rewritten afterwards to record their status."""
    failed = validation.flagged(rows.with_row_index("id").select(validation.COLUMNS))
    if failed.is_empty():
        return rows.with_columns(
            status=pl.lit(CdrState.VALID.value), validation_errors=pl.lit(None, pl.String)
        )
    reasons = pl.col("reasons")
    found = failed.select(
        "row",
        errors=pl.concat_str([pl.lit('["'), reasons.list.join('","'), pl.lit('"]')]),
        unbillable=validation.unbillable(reasons),
    )
    joined = (
        rows.with_row_index("row")
        .select("row")
        .join(found, on="row", how="left", maintain_order="left")
    )
    return rows.with_columns(
        status=pl.when(joined.get_column("unbillable").fill_null(False))
        .then(pl.lit(CdrState.INVALID.value))
        .otherwise(pl.lit(CdrState.VALID.value)),
        validation_errors=joined.get_column("errors"),
    )


def _store(
    session: Session,
    batch: _Prepared,
    raw_lines: Callable[[list[int]], list[str]],
    source: str | None,
    record: CdrImport | None,
) -> BatchCounts:
    imported = repository.insert_cdrs(session, batch.rows)
    rejects = batch.rejects
    if not rejects.is_empty():
        lines = rejects.get_column("line").to_list()
        reasons = rejects.get_column("reason")
        repository.add_rejects(
            session,
            record.file_name if record else None,
            [
                {
                    "import_id": record.id if record else None,
                    "source": source,
                    "file_name": record.file_name if record else None,
                    "line_number": line,
                    "reason": _reject_text(reason),
                    "raw": _reject_text(raw),
                }
                for line, reason, raw in zip(
                    lines, reasons.to_list(), raw_lines(lines), strict=True
                )
            ],
        )
    return BatchCounts(imported, batch.calls - imported, rejects.height)


def store_parsed(
    session: Session,
    parsed: Parsed,
    raw_lines: Callable[[list[int]], list[str]],
    zone: str,
    source: str | None,
    record: CdrImport | None = None,
) -> BatchCounts:
    """Store one batch of parsed calls: each new call once, a call already stored (or
    twice in the batch) counted as a duplicate, every reject kept with its line, its
    text (``raw_lines`` gives it) and the reason."""
    batch = _prepare(parsed, zone, source, record.id if record else None)
    return _store(session, batch, raw_lines, source, record)


def import_file(
    session: Session,
    path: Path,
    file_format: str,
    zone: str,
    source: str | None,
    batch_lines: int,
) -> Iterator[CdrImport]:
    """Import one file, ``batch_lines`` lines at a time, yielding its import record
    (with the counts so far) after each batch is stored: the caller commits there.

    An import of the same file that did not finish is continued from its last stored
    batch, when the file still starts with the bytes it had read (their SHA-256 is
    kept as it goes); otherwise the file is read from its start, and what was stored
    already counts as duplicates."""
    parse = PARSERS[FileFormat(file_format)]
    zone_info(zone)
    path = path.resolve()
    if not path.is_file():
        raise NotFound(f"no file {path}")
    hasher = hashlib.sha256()
    record = repository.unfinished_import(session, str(path), file_format)
    if record is None or not _starts_with(path, record.bytes_read, record.file_sha256, hasher):
        hasher = hashlib.sha256()
        record = repository.add_import(
            session,
            CdrImport(
                source=source,
                format=file_format,
                file_name=str(path),
                timezone=zone,
                status="running",
                lines_read=0,
                bytes_read=0,
                imported=0,
                duplicates=0,
                rejected=0,
            ),
        )
    record.status = "running"
    chunks = read_chunks(path, record.bytes_read, record.lines_read + 1, batch_lines)
    zone, import_id = record.timezone, record.id

    def next_batch() -> tuple[Chunk, str, _Prepared] | None:
        """The next chunk read, the SHA-256 of the file up to its end, and its batch."""
        chunk = next(chunks, None)
        if chunk is None:
            return None
        hasher.update(chunk.data)
        return chunk, hasher.hexdigest(), _prepare(parse(chunk), zone, source, import_id)

    # The next batch is read, hashed and parsed in a second thread while this one is
    # written: Polars, hashlib, file reads and the database drivers let go of Python's
    # lock while they work, so the two cores share the import. Only that thread reads.
    with ThreadPoolExecutor(max_workers=1) as ahead:
        pending = ahead.submit(next_batch)
        while (ready := pending.result()) is not None:
            chunk, sha256, batch = ready
            pending = ahead.submit(next_batch)
            counts = _store(session, batch, chunk.lines, source, record)
            _advance(record, chunk, counts, sha256)
            session.flush()
            yield record
    record.status = "done"
    record.finished_at = utcnow()
    session.flush()


def _advance(record: CdrImport, chunk: Chunk, counts: BatchCounts, sha256: str) -> None:
    record.lines_read += chunk.line_count
    record.bytes_read = chunk.end
    record.file_sha256 = sha256
    record.imported += counts.imported
    record.duplicates += counts.duplicates
    record.rejected += counts.rejected


def _starts_with(path: Path, length: int, sha256: str | None, hasher: Any) -> bool:
    """Whether the file's first ``length`` bytes still hash to ``sha256`` (feeding
    them to ``hasher``, which goes on from there)."""
    if not length or sha256 is None:
        return False
    with path.open("rb") as handle:
        left = length
        while left:
            block = handle.read(min(left, _RESUMABLE_HASH_BLOCK))
            if not block:
                return False
            hasher.update(block)
            left -= len(block)
    return bool(hasher.hexdigest() == sha256)


def mark_interrupted(session: Session, import_id: int) -> None:
    record = session.get(CdrImport, import_id)
    if record is not None and record.status == "running":
        record.status = "interrupted"
        session.flush()


def import_findings(session: Session, import_id: int, after_id: int) -> repository.FindingCounts:
    """What validation found in the calls an import stored with ids above ``after_id``
    (``last_cdr_id`` before it ran)."""
    return repository.import_findings(session, import_id, after_id)


def last_cdr_id(session: Session) -> int:
    return repository.max_cdr_id(session)


def list_imports(session: Session, limit: int = 100) -> Sequence[CdrImport]:
    return repository.imports(session, limit)


def list_rejects(
    session: Session, import_id: int | None = None, source: str | None = None, limit: int = 100
) -> Sequence[CdrReject]:
    return repository.rejects(session, import_id, source, limit)


# --- rating -------------------------------------------------------------------


def rating_policy(settings: Settings) -> RatingPolicy:
    return RatingPolicy(
        rewrite_rules=tuple((prefix, new) for prefix, new in settings.rewrite_rules),
        min_number_length=settings.min_number_length,
        answered_dispositions=tuple(settings.answered_dispositions),
    )


@dataclass
class BillingSummary:
    processed: int = 0
    changed: int = 0
    rated: int = 0
    zero_cost: int = 0
    unrated: dict[str, int] = field(default_factory=dict)
    cost_by_currency: dict[str, Decimal] = field(default_factory=dict)
    # the window's calls billing could not rate: not validated yet, and invalid (how
    # many, and how many have each finding)
    unvalidated: int = 0
    invalid: int = 0
    invalid_findings: dict[str, int] = field(default_factory=dict)

    def add(self, results: pl.DataFrame, contracts: pl.DataFrame, changed: int) -> None:
        self.processed += results.height
        self.changed += changed
        rated = results.filter(pl.col("rating_status") == RatingStatus.RATED.value)
        self.rated += rated.height
        self.zero_cost += rated.filter(pl.col("cost") == 0).height
        for reason, count in (
            results.filter(pl.col("rating_status") == RatingStatus.UNRATED.value)
            .group_by("rating_reason")
            .len()
            .iter_rows()
        ):
            self.unrated[reason] = self.unrated.get(reason, 0) + count
        totals = (
            rated.join(contracts.select("contract_id", "currency"), on="contract_id")
            .group_by("currency")
            .agg(pl.col("cost").sum())
        )
        for currency, total in totals.iter_rows():
            self.cost_by_currency[currency] = (
                self.cost_by_currency.get(currency, Decimal(0)) + total
            )


def process_billing(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    rerate: bool,
    settings: Settings,
    on_day: Callable[[dt.date, int], None] | None = None,
) -> BillingSummary:
    """Rate the CDRs that started in ``[start, end)``: those not rated yet, and with
    ``rerate`` the rated ones too unless their invoice was sent, awaits payment or is
    paid. A day (of the billing time zone) at a time, so memory holds one day's CDRs;
    only the CDRs whose rating changes are written. Each day is held until the run
    commits: a concurrent run of the same day waits, then finds nothing left to do."""
    policy = rating_policy(settings)
    contracts = repository.contracts_frame(session)
    # every rate that may apply in the window, read and laid out once; each day is
    # rated with the rates in effect at its calls
    rates = repository.rates_frame(session, start, end)
    try:
        book = engine.rate_book(rates, start, end)
    except engine.RatingError as exc:
        raise ValidationFailed(f"cannot rate: {exc}") from exc
    summary = BillingSummary()
    zone = zone_info(settings.timezone)
    day_start = start
    while day_start < end:
        local = day_start.astimezone(zone)
        next_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), zone)
        day_end = min(next_day.astimezone(dt.UTC), end)
        repository.lock_rating_day(session, local.date())
        cdrs = repository.ratable_cdrs(session, day_start, day_end, rerate)
        if not cdrs.is_empty():
            try:
                results = engine.rate(cdrs, contracts, rates, policy, book)
            except engine.RatingError as exc:
                raise ValidationFailed(f"cannot rate: {exc}") from exc
            differs = _differs(results, cdrs)
            changed = results.with_columns(start_time=cdrs.get_column("start_time")).filter(differs)
            first = cdrs.get_column("old_rating_status").filter(differs) == "pending"
            repository.write_ratings(session, changed, first, utcnow())
            summary.add(results, contracts, changed.height)
        if on_day is not None:
            on_day(local.date(), cdrs.height)
        day_start = day_end
    session.flush()
    summary.unvalidated, invalid = repository.excluded_counts(session, start, end)
    summary.invalid, summary.invalid_findings = invalid.invalid, invalid.reasons
    return summary


def _differs(results: pl.DataFrame, cdrs: pl.DataFrame) -> pl.Series:
    """Which results differ from what the CDRs have (results keep the CDRs' order)."""
    return results.select(
        pl.any_horizontal(
            pl.col(name).ne_missing(pl.lit(cdrs.get_column(f"old_{name}")))
            for name in repository.RATING_COLUMNS
        )
    ).to_series()


# --- export -------------------------------------------------------------------


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
    session: Session, start: dt.datetime, end: dt.datetime, output_format: str, out: TextIO
) -> int:
    """Write the CDRs of ``[start, end)``, oldest first, one row each, as CSV (with a
    header) or a JSON array; streamed, one batch in memory. Returns how many."""
    names = repository.EXPORT_COLUMNS
    rows = repository.export_rows(session, start, end, _EXPORT_BATCH)
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
