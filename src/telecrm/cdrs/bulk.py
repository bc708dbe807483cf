"""Bulk writes that talk to the driver, inside the session's transaction (none of
them commits): binary COPY on PostgreSQL (encoded from Arrow by pgpq),
``executemany`` on SQLite. The file import and the rating run both write this way."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pgpq
import polars as pl
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import psycopg

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"  # how SQLAlchemy stores a DateTime in SQLite
# Rows encoded at a time for a binary COPY: the server works on one piece while the
# next is encoded, instead of waiting for a whole batch to be.
_COPY_PIECE_ROWS = 8192
# Rows turned into Python values at a time for SQLite's executemany.
_SQLITE_SLICE_ROWS = 8192


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def copy_binary(cursor: psycopg.Cursor[Any], table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into ``table`` (its columns, by name) in PostgreSQL's binary
    format: no text to format here nor to parse on the server."""
    # Polars' own string layout (Arrow's string views): pgpq encodes it as it is,
    # where the default export would first copy every string into another layout.
    arrow = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    encoder = pgpq.ArrowToPostgresBinaryEncoder(arrow.schema)
    columns = ", ".join(frame.columns)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(encoder.write_header())
        for batch in arrow.to_batches(max_chunksize=_COPY_PIECE_ROWS):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def executemany_sqlite(connection: Any, sql: str, frame: pl.DataFrame) -> None:
    """Run ``sql`` once per row of ``frame`` (its columns in order as the parameters),
    times as SQLAlchemy stores them in SQLite. Python values a slice at a time,
    streamed to executemany: a batch is never all tuples at once, and a column
    holding one value gives that one object each row."""
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime(_SQLITE_TIME))
    for part in frame.iter_slices(_SQLITE_SLICE_ROWS):
        values = (_python_values(column) for column in part.iter_columns())
        connection.executemany(sql, zip(*values, strict=True))


def _python_values(column: pl.Series) -> Iterable[Any]:
    first = column[0]
    if first is None:
        alike = column.null_count() == column.len()
    else:
        alike = column.null_count() == 0 and bool((column == first).all())
    return itertools.repeat(first, column.len()) if alike else column.to_list()
