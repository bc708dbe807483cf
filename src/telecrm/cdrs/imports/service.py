"""The CDR file import. Services never commit: the CLI command or job wrapper does,
once per batch (``import_file`` yields after each one), so that a crash or Ctrl-C
keeps every batch before it and a re-run of the same file continues after the last
one."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.cdrs.formats import PARSERS, FileFormat
from telecrm.cdrs.formats.base import Chunk, Parsed, read_chunks
from telecrm.cdrs.imports import records, repository
from telecrm.cdrs.lifecycle import validation
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.lifecycle.repository import FindingCounts, max_cdr_id
from telecrm.cdrs.models import CdrImport, CdrReject
from telecrm.cdrs.window import zone_info
from telecrm.db import utcnow
from telecrm.errors import CdrFileNotFound, CdrImportNotFound

_RESUMABLE_HASH_BLOCK = 1 << 20
# A reject keeps the text of its one line, up to this many characters: a CDR line is
# far shorter, and a file that is one long "line" (no line ends) is not kept whole.
MAX_REJECT_RAW = 4096


def _reject_key(raw: str) -> str:
    """What tells a reject of a database or push source from another: the SHA-256 of
    its whole row (not the kept text, which may be cut). Such a source is read again
    (a database with an overlap, a push repeated), and no line of a file names it."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _reject_text(text: str) -> str:
    """Text as a reject keeps it: one line, at most MAX_REJECT_RAW characters, NUL
    (which PostgreSQL's text cannot hold) written as the four characters ``\\x00``."""
    line = text.split("\n", 1)[0]
    shown = line.replace(records.NUL, "\\x00")
    if len(shown) <= MAX_REJECT_RAW:
        return shown
    marker = f" [cut: {len(line)} characters in all]"
    return shown[: MAX_REJECT_RAW - len(marker)] + marker


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
    reject_lines: Callable[[list[int]], list[int]] | None = None,
) -> BatchCounts:
    imported = repository.insert_cdrs(session, batch.rows)
    cache.invalidate_on_commit(session, cache.CDRS)
    rejects = batch.rejects
    if not rejects.is_empty():
        lines = rejects.get_column("line").to_list()
        numbers = reject_lines(lines) if reject_lines else lines
        reasons = rejects.get_column("reason")
        repository.add_rejects(
            session,
            record.file_name if record else None,
            [
                {
                    "import_id": record.id if record else None,
                    "source": source,
                    "file_name": record.file_name if record else None,
                    "line_number": number,
                    "reason": _reject_text(reason),
                    "raw": _reject_text(raw),
                    "raw_key": None if record else _reject_key(raw),
                }
                for number, reason, raw in zip(
                    numbers, reasons.to_list(), raw_lines(lines), strict=True
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
    reject_lines: Callable[[list[int]], list[int]] | None = None,
) -> BatchCounts:
    """Store one batch of parsed calls: each new call once, a call already stored (or
    twice in the batch) counted as a duplicate, every reject kept with its line, its
    text (``raw_lines`` gives it) and the reason. ``reject_lines`` turns the batch's
    line numbers into those a reject is known by (several posts parsed as one batch:
    the line within its post)."""
    batch = _prepare(parsed, zone, source, record.id if record else None)
    return _store(session, batch, raw_lines, source, record, reject_lines)


def import_file(
    session: Session,
    path: Path,
    file_format: str,
    zone: str,
    source: str | None,
    batch_lines: int,
    file_name: str | None = None,
) -> Iterator[CdrImport]:
    """Import one file, ``batch_lines`` lines at a time, yielding its import record
    (with the counts so far) after each batch is stored: the caller commits there.
    ``file_name``: what the import is recorded under (default: the file's path).

    An import of the same file that did not finish is continued from its last stored
    batch, when the file still starts with the bytes it had read (their SHA-256 is
    kept as it goes); otherwise the file is read from its start, and what was stored
    already counts as duplicates."""
    parse = PARSERS[FileFormat(file_format)]
    zone_info(zone)
    path = path.resolve()
    if not path.is_file():
        raise CdrFileNotFound(f"no file {path}")
    hasher = hashlib.sha256()
    file_name = file_name or str(path)
    record = repository.unfinished_import(session, file_name, file_format)
    if record is None or not _starts_with(path, record.bytes_read, record.file_sha256, hasher):
        hasher = hashlib.sha256()
        record = repository.add_import(
            session,
            CdrImport(
                source=source,
                format=file_format,
                file_name=file_name,
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


def import_upload(
    session: Session,
    stream: BinaryIO,
    name: str,
    file_format: str,
    zone: str,
    batch_lines: int,
) -> Iterator[CdrImport]:
    """``import_file`` for a file uploaded through the console, recorded as
    ``upload:NAME``: written to a temporary file first (the parsers read a file in
    chunks), which is removed when the import ends or fails. An upload of the same
    name that did not finish continues when the new file starts with its bytes."""
    parse_format = FileFormat(file_format)
    with tempfile.TemporaryDirectory(prefix="telecrm-upload-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as copy:
            shutil.copyfileobj(stream, copy, _RESUMABLE_HASH_BLOCK)
        yield from import_file(
            session, path, parse_format.value, zone, None, batch_lines, f"upload:{name}"
        )


def mark_interrupted(session: Session, import_id: int) -> None:
    record = session.get(CdrImport, import_id)
    if record is not None and record.status == "running":
        record.status = "interrupted"
        session.flush()


def import_findings(session: Session, import_id: int, after_id: int) -> FindingCounts:
    """What validation found in the calls an import stored with ids above ``after_id``
    (``last_cdr_id`` before it ran)."""
    return repository.import_findings(session, import_id, after_id)


def last_cdr_id(session: Session) -> int:
    return max_cdr_id(session)


def get_import(session: Session, import_id: int) -> CdrImport:
    record = repository.get_import(session, import_id)
    if record is None:
        raise CdrImportNotFound(f"CDR import {import_id} not found")
    return record


def list_imports(session: Session, limit: int = 100) -> Sequence[CdrImport]:
    return repository.imports(session, limit)


def list_rejects(
    session: Session, import_id: int | None = None, source: str | None = None, limit: int = 100
) -> Sequence[CdrReject]:
    return repository.rejects(session, import_id, source, limit)
