"""Reading reference data from CSV (rate groups, rates, contracts): every bad row is
reported with its line number, and nothing is imported unless every row is good,
so a file is either in the database completely or not at all."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TextIO, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from telecrm.audit.service import record
from telecrm.errors import ValidationFailed

if TYPE_CHECKING:
    from _csv import Reader

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K", bound=Hashable)

# How many bad rows the error message lists; the error's detail has all of them.
MESSAGE_ROWS = 10


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Row(Generic[M]):
    line: int
    record: M
    fields: frozenset[str]  # the columns that had a value in this row


@dataclass(frozen=True, slots=True)
class Keyed:
    """A good row under its key: a new object is made from ``values``; an existing
    one takes the values of the fields in ``given`` (all of them when ``None``)."""

    line: int
    values: dict[str, Any]
    given: frozenset[str] | None = None


class ImportSummary(BaseModel):
    """What an import did: rows that made a new object, rows that changed one."""

    created: int
    updated: int


def decode(content: bytes, name: str) -> str:
    """A file's text: UTF-8, with or without the BOM that Excel writes."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # the codec counts from after the BOM
        at = exc.start + (len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0)
        line = content.count(b"\n", 0, at) + 1
        raise ValidationFailed(
            f"{name} is not UTF-8 text (line {line}, byte {at}): save it as UTF-8"
        ) from exc


def _pydantic_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'row'}: {problem['msg']}"
        for problem in error.errors()
    )


def read_rows(
    stream: TextIO,
    model: type[M],
    required: Collection[str],
    optional: Collection[str],
    name: str,
) -> tuple[list[Row[M]], list[RowError]]:
    """Parse every row of a CSV with a header into ``model``. An empty cell is a
    value not given (the model's default applies). Returns the good rows and one
    error per bad row; a bad header is an error at once."""
    errors: list[RowError] = []
    rows = list(iter_rows(stream, model, required, optional, name, errors))
    return rows, errors


def iter_rows(
    stream: TextIO,
    model: type[M],
    required: Collection[str],
    optional: Collection[str],
    name: str,
    errors: list[RowError],
) -> Iterator[Row[M]]:
    """``read_rows`` one row at a time, as the stream is read, for a caller that
    keeps less than every row; each bad row is added to ``errors``."""
    reader = csv.reader(stream)
    try:
        yield from _rows(reader, model, required, optional, name, errors)
    except csv.Error as exc:
        line = reader.line_num
        raise ValidationFailed(
            f"{name} line {line}: {exc}", detail=[{"line": line, "message": str(exc)}]
        ) from exc
    except UnicodeDecodeError as exc:
        # Decoded in blocks as it is read: which line the byte is on is not known.
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise ValidationFailed(f"{name} is not UTF-8 text ({exc.reason}: byte 0x{bad})") from exc


def _rows(
    reader: Reader,
    model: type[M],
    required: Collection[str],
    optional: Collection[str],
    name: str,
    errors: list[RowError],
) -> Iterator[Row[M]]:
    header = [column.strip() for column in next(reader, [])]
    if not header:
        raise ValidationFailed(f"{name} is empty: it needs a header line")
    missing = [column for column in required if column not in header]
    unknown = [column for column in header if column not in required and column not in optional]
    duplicated = sorted({column for column in header if header.count(column) > 1})
    problems = [
        *(["missing columns: " + ", ".join(missing)] if missing else []),
        *(["unknown columns: " + ", ".join(unknown)] if unknown else []),
        *(["repeated columns: " + ", ".join(duplicated)] if duplicated else []),
    ]
    if problems:
        raise ValidationFailed(
            f"{name} line 1 (header): {'; '.join(problems)} "
            f"(columns: {', '.join([*required, *optional])})"
        )
    line = reader.line_num
    for cells in reader:
        first_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if any("\x00" in cell for cell in cells):
            errors.append(RowError(first_line, "contains a NUL character"))
            continue
        if len(cells) != len(header):
            errors.append(
                RowError(first_line, f"{len(cells)} columns, the header has {len(header)}")
            )
            continue
        values = {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
        given = {column: value for column, value in values.items() if value}
        try:
            record = model.model_validate(given)
        except ValidationError as exc:
            errors.append(RowError(first_line, _pydantic_message(exc)))
            continue
        yield Row(first_line, record, frozenset(given))


def raise_if_errors(errors: Iterable[RowError], name: str) -> None:
    """Refuse the whole file when any row is bad, listing the rows by line."""
    ordered = sorted(errors, key=lambda error: error.line)
    if not ordered:
        return
    listed = "; ".join(str(error) for error in ordered[:MESSAGE_ROWS])
    more = f"; and {len(ordered) - MESSAGE_ROWS} more" if len(ordered) > MESSAGE_ROWS else ""
    raise ValidationFailed(
        f"{name}: {len(ordered)} bad rows, nothing imported: {listed}{more}",
        detail=[{"line": error.line, "message": error.message} for error in ordered],
    )


def upsert(
    session: Session,
    name: str,
    target: str,
    incoming: Mapping[K, Keyed],
    existing: Mapping[K, Any],
    insert: Callable[[list[dict[str, Any]]], None],
    errors: Iterable[RowError],
) -> ImportSummary:
    """The end of every import of ``name`` into ``target``: refuse the whole file
    if any row is bad; otherwise change the existing objects whose row differs,
    ``insert`` the values of the rows with no existing object, and log the import."""
    raise_if_errors(errors, name)
    created: list[dict[str, Any]] = []
    updated = 0
    for key, row in incoming.items():
        current = existing.get(key)
        if current is None:
            created.append(row.values)
            continue
        values = row.values if row.given is None else {f: row.values[f] for f in row.given}
        changed = {
            field: value for field, value in values.items() if getattr(current, field) != value
        }
        for field, value in changed.items():
            setattr(current, field, value)
        updated += bool(changed)
    session.flush()
    insert(created)
    record(
        session,
        "import",
        target,
        None,
        {"file": name, "created": len(created), "updated": updated},
    )
    return ImportSummary(created=len(created), updated=updated)
