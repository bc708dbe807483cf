"""What a fetch stores goes through billing's CDR import (``telecrm.cdrs``): the same
parsers, the same unique key per call, the same rejects. This module turns each kind
of source into what that import takes, and adds up what it did."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from telecrm.cdrs.formats import PARSERS, FileFormat
from telecrm.cdrs.formats.asterisk_csv import asterisk_identity
from telecrm.cdrs.formats.base import CANONICAL, Chunk, Parsed, empty_rejects
from telecrm.cdrs.imports import repository as cdr_repository
from telecrm.cdrs.imports import service as cdr_import
from telecrm.cdrs.imports.records import TIME_FORMAT
from telecrm.cdrs.sources import repository
from telecrm.cdrs.sources.push import Pushed

# What a pushed batch may call a field, besides the canonical (Asterisk) names.
BATCH_ALIASES = {
    "call_id": "uniqueid",
    "caller": "src",
    "callee": "dst",
    "start_time": "start",
    "calldate": "start",
    "answer_time": "answer",
    "end_time": "end",
}
_HASH_BLOCK = 1 << 20


@dataclass
class ImportCounts:
    files: int = 0
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, counts: cdr_import.BatchCounts, rows: int) -> None:
        self.rows += rows
        self.imported += counts.imported
        self.duplicates += counts.duplicates
        self.rejected += counts.rejected


def _local_text(value: Any, zone: ZoneInfo) -> str | None:
    """A time as the PBX would have written it: wall-clock text in its zone."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value  # left as given: the import rejects it with the reason
    if value.tzinfo is not None:
        value = value.astimezone(zone)
    return str(value.strftime(TIME_FORMAT))


def _canonical_frame(rows: Sequence[dict[str, Any]], zone: ZoneInfo, first_line: int) -> Parsed:
    """Rows keyed by canonical names (typed or text) -> a parsed batch, as a parser of
    an Asterisk file makes it: the fields as text, the call's identity from them all."""
    records = []
    for number, row in enumerate(rows, start=first_line):
        record: dict[str, Any] = {}
        for name in CANONICAL:
            value = row.get(name)
            if name in ("start", "answer", "end"):
                record[name] = _local_text(value, zone)
            else:
                record[name] = None if value is None else str(value)
        record["line"] = number
        records.append(record)
    schema = {name: pl.String for name in CANONICAL} | {"line": pl.Int64}
    frame = pl.DataFrame(records, schema=schema, orient="row")
    return Parsed(frame.with_columns(identity=asterisk_identity()), empty_rejects())


def _raw_lines(rows: Sequence[dict[str, Any]], first_line: int) -> Any:
    def raw(numbers: list[int]) -> list[str]:
        return [json.dumps(rows[n - first_line], default=str) for n in numbers]

    return raw


def import_asterisk_rows(
    session: Session, rows: Sequence[dict[str, Any]], source: str, zone: str, counts: ImportCounts
) -> None:
    """One chunk of an Asterisk CDR database's rows (see ``asterisk_db``)."""
    first_line = counts.rows + 1
    parsed = _canonical_frame(rows, ZoneInfo(zone), first_line)
    stored = cdr_import.store_parsed(session, parsed, _raw_lines(rows, first_line), zone, source)
    counts.add(stored, len(rows))


def _in_post(origins: list[int]) -> Callable[[list[int]], list[int]]:
    """Line ``n`` of posts parsed as one batch -> its line within its own post."""
    return lambda lines: [origins[line - 1] for line in lines]


def import_pushed(
    session: Session, posts: Sequence[Pushed], source: str, zone: str, counts: ImportCounts
) -> None:
    """Posts of one source stored as one batch of each kind (parsing and storing a
    call at a time is what made a busy PBX's posts slow); a reject keeps the line it
    has within its post."""
    documents = [
        (number, document)
        for post in posts
        if post.kind == "freeswitch-json"
        for number, document in enumerate(post.documents, start=1)
    ]
    if documents:
        text = "\n".join(json.dumps(document) for _, document in documents)
        chunk = Chunk(text.encode(), offset=0, first_line=1)
        parsed = PARSERS[FileFormat.FREESWITCH_JSON](chunk)
        origins = [number for number, _ in documents]
        stored = cdr_import.store_parsed(
            session, parsed, chunk.lines, zone, source, reject_lines=_in_post(origins)
        )
        counts.add(stored, len(documents))
    rows = [
        (number, {BATCH_ALIASES.get(key, key): value for key, value in document.items()})
        for post in posts
        if post.kind == "batch"
        for number, document in enumerate(post.documents, start=1)
    ]
    if rows:
        canonical = [row for _, row in rows]
        parsed = _canonical_frame(canonical, ZoneInfo(zone), 1)
        stored = cdr_import.store_parsed(
            session,
            parsed,
            _raw_lines(canonical, 1),
            zone,
            source,
            reject_lines=_in_post([number for number, _ in rows]),
        )
        counts.add(stored, len(rows))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def skip_file(session: Session, path: Path, reason: str, source: str, counts: ImportCounts) -> None:
    """A file the folder holds but may not be read: kept as a reject of the file as a
    whole (line 0, no text: nothing of it was read), once however often it is met, and
    counted in each run that met it."""
    cdr_repository.add_rejects(
        session,
        str(path),
        [
            {
                "import_id": None,
                "source": source,
                "file_name": str(path),
                "line_number": 0,
                "reason": reason,
                "raw": "",
            }
        ],
    )
    counts.rejected += 1


def import_file(
    session: Session,
    path: Path,
    file_format: str,
    source: str,
    zone: str,
    batch_lines: int,
    counts: ImportCounts,
) -> None:
    """A folder's file, each fetched once: skipped when it is as it was when last
    imported whole (same size, same SHA-256). A file that grew since (Master.csv is
    appended to all day) is continued after the last byte read, as billing's import
    continues an interrupted one when the part it read is unchanged."""
    done = repository.finished_import(session, str(path.resolve()), file_format)
    before = (0, 0, 0, 0)
    if done is not None:
        size = path.stat().st_size
        if done.bytes_read == size and done.file_sha256 == _sha256(path):
            return
        if size > done.bytes_read:
            done.status = "interrupted"  # what billing's import continues, if unchanged
            before = (done.lines_read, done.imported, done.duplicates, done.rejected)
    # One unit of work for the whole fetch (the caller commits), so the batches the
    # import yields after are not commit points here; the last one has the totals.
    record = None
    for progress in cdr_import.import_file(session, path, file_format, zone, source, batch_lines):
        record = progress
    if record is not None:
        if record is not done:
            before = (0, 0, 0, 0)  # the file changed where it was read: read again whole
        counts.files += 1
        counts.rows += record.lines_read - before[0]
        counts.imported += record.imported - before[1]
        counts.duplicates += record.duplicates - before[2]
        counts.rejected += record.rejected - before[3]
