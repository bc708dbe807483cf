"""What every file format shares: reading a file in batches of whole lines, splitting
CSV lines into fields, and the common shape a parser hands on.

A parser turns a ``Chunk`` (whole lines of a file) into a ``Parsed``: one row per
call with the ``CANONICAL`` columns as text, exactly as the PBX wrote them (times are
local wall-clock text; ``telecrm.cdrs.imports.records`` types them), the line it came
from and the text its unique key is made of; and the lines it could not read, with the
reason.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

# The fields of a call, named as Asterisk's CDR names them.
CANONICAL = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
)
REJECT_SCHEMA = pl.Schema({"line": pl.Int64, "reason": pl.String})
# Files are read in blocks of at least this size (about what the lines still wanted
# take) and cut at a line end: reading line by line costs a Python call per line.
_READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """Whole lines of a file: ``data`` starts at byte ``offset``, line ``first_line``."""

    data: bytes
    offset: int
    first_line: int

    @property
    def end(self) -> int:
        return self.offset + len(self.data)

    @cached_property
    def line_count(self) -> int:
        return self.data.count(b"\n") + (0 if self.data.endswith(b"\n") else 1)

    @cached_property
    def nul_free(self) -> bool:
        """No NUL byte anywhere in the lines: then no field read from them as CSV holds
        one, and the check of every field for one can be left out (one ``memchr``
        over the chunk costs a few percent of checking each field)."""
        return b"\x00" not in self.data

    def lines(self, numbers: list[int]) -> list[str]:
        """The text of the given lines (for rejects: only ever a few of them)."""
        texts = self.data.decode("utf-8", errors="replace").split("\n")
        return [texts[number - self.first_line].rstrip("\r") for number in numbers]


@dataclass(frozen=True)
class Parsed:
    """``rows``: the ``CANONICAL`` columns (text, null where the format has no such
    field), ``line`` and ``identity`` (what the call's unique key is made of);
    ``rejects``: ``line`` and ``reason`` of each line that is not a call;
    ``nul_free``: known to hold no NUL character in any field (see ``Chunk.nul_free``)."""

    rows: pl.DataFrame
    rejects: pl.DataFrame
    nul_free: bool = False


def read_chunks(path: Path, offset: int, first_line: int, lines_per_chunk: int) -> Iterator[Chunk]:
    """The file from byte ``offset`` (a line start) on, ``lines_per_chunk`` lines at a
    time, streamed: memory holds one chunk, whatever the file's size."""
    with path.open("rb", buffering=0) as handle:
        handle.seek(offset)
        buffer, start, lines = b"", 0, 0  # not handed on yet: buffer[start:], with ``lines`` ends
        line_size = 0.0  # bytes per line, as far as read
        while True:
            if lines < lines_per_chunk:
                blocks = [buffer[start:]]
                while lines < lines_per_chunk:
                    wanted = int((lines_per_chunk - lines) * line_size)
                    block = handle.read(max(_READ_BLOCK, wanted))
                    if not block:
                        break
                    blocks.append(block)
                    ends = block.count(b"\n")
                    lines += ends
                    line_size = len(block) / ends if ends else line_size
                buffer, start = b"".join(blocks), 0
            if lines >= lines_per_chunk:
                end = _after_line(buffer, start, lines, lines_per_chunk)
                lines -= lines_per_chunk
            else:  # the file's end: its last line may have no line end
                end, lines = len(buffer), 0
            if end == start:
                return
            chunk = Chunk(buffer[start:end], offset, first_line)
            yield chunk
            start, offset, first_line = end, chunk.end, first_line + chunk.line_count


def _after_line(data: bytes, start: int, lines: int, count: int) -> int:
    """Where the ``count``-th line from ``start`` ends (just after its line end), with
    ``lines`` line ends after ``start``: searched from whichever side is nearer."""
    if count <= lines - count:
        at = start - 1
        for _ in range(count):
            at = data.find(b"\n", at + 1)
    else:
        at = len(data)
        for _ in range(lines - count + 1):
            at = data.rfind(b"\n", start, at)
    return at + 1


def csv_fields(
    chunk: Chunk, counts: tuple[int, ...]
) -> tuple[dict[int, pl.DataFrame], pl.DataFrame]:
    """Split the chunk's CSV lines into fields (``f0``, ``f1``... as text, quotes and
    doubled quotes undone, plus ``line``), grouped by how many fields a line has, for
    the field counts of ``counts``; every other non-blank line is a reject.

    The chunk is parsed by Polars' CSV reader in one go. Only when a line breaks the
    one-record-per-line shape (an unbalanced quote, a line cut short mid-field) does
    each line go through Python's csv module on its own, so that the bad line is
    rejected alone and every good one still counts."""
    widest = max(counts)
    frame = _read_csv(chunk.data, widest + 1)
    if frame is None or frame.height != chunk.line_count:
        frame = _fields_line_by_line(chunk, widest + 1)
    else:
        # A line has as many fields as its last non-empty one shows: an Asterisk line
        # ends with a quoted text or a number, never with an empty unquoted field.
        frame = frame.with_columns(
            line=pl.int_range(pl.len(), dtype=pl.Int64) + chunk.first_line,
            fields=pl.max_horizontal(
                pl.when(pl.col(f"f{i}").is_not_null()).then(pl.lit(i + 1)).otherwise(0)
                for i in range(widest + 1)
            ),
            error=pl.lit(None, pl.String),
        )
    found = set(frame.get_column("fields").unique().to_list())
    if 0 in found:
        frame = frame.filter(pl.col("fields") > 0)  # blank lines are not calls

    def lines_of(count: int) -> pl.DataFrame:
        if count not in found:
            return frame.clear()
        if found <= {0, count}:  # most files: every line has the same count
            return frame
        return frame.filter(pl.col("fields") == count)

    by_count = {
        count: lines_of(count).select([f"f{i}" for i in range(count)] + ["line"])
        for count in counts
    }
    if found <= {0, *counts}:
        return by_count, empty_rejects()
    expected = " or ".join(str(count) for count in counts)
    rejects = frame.filter(~pl.col("fields").is_in(counts)).select(
        "line",
        reason=pl.coalesce(
            "error",
            pl.format("{} fields where {} are expected", pl.col("fields"), pl.lit(expected)),
        ),
    )
    return by_count, rejects


def _read_csv(data: bytes, width: int) -> pl.DataFrame | None:
    """The lines' fields by Polars' CSV reader, or None when it cannot read them. Text
    that is not UTF-8 is read again with the bad bytes replaced (strict is faster)."""
    for encoding in ("utf8", "utf8-lossy"):
        try:
            return pl.read_csv(
                data,
                has_header=False,
                schema={f"f{i}": pl.String for i in range(width)},
                truncate_ragged_lines=True,
                missing_columns="insert",
                encoding=encoding,
                quote_char='"',
            )
        except pl.exceptions.PolarsError:
            continue
    return None


def _fields_line_by_line(chunk: Chunk, width: int) -> pl.DataFrame:
    rows: list[list[Any]] = []
    for text in chunk.data.decode("utf-8", errors="replace").split("\n")[: chunk.line_count]:
        text = text.rstrip("\r")
        try:
            fields: list[str | None] = list(next(csv.reader([text], strict=True), []))
            error = None
        except csv.Error as exc:
            fields, error = ["?"], f"not a CSV line ({exc})"
        count = len(fields)
        rows.append([*fields[:width], *[None] * (width - min(count, width)), count, error])
    schema = {f"f{i}": pl.String for i in range(width)} | {"fields": pl.Int64, "error": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        line=pl.int_range(pl.len(), dtype=pl.Int64) + chunk.first_line
    )


def canonical(frame: pl.DataFrame, layout: tuple[str, ...]) -> pl.DataFrame:
    """The fields of a format's ``layout`` (its column order, fields it has no use for
    named ``""``) under their canonical names, the canonical fields it lacks as nulls,
    and its own fields (names not canonical) as they are, for the parser to use."""
    named = {name: f"f{i}" for i, name in enumerate(layout) if name}
    own = [pl.col(column).alias(name) for name, column in named.items() if name not in CANONICAL]
    return frame.select(
        [
            (pl.col(named[name]) if name in named else pl.lit(None, pl.String)).alias(name)
            for name in CANONICAL
        ]
        + own
        + ["line"]
    )


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)
