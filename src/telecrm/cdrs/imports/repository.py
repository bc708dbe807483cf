"""Every query of the CDR file import (and of a source's fetch, which stores the same
way): the import records, the calls stored once each, the rejects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telecrm.cdrs.bulk import copy_binary, driver_connection, executemany_sqlite, is_postgres
from telecrm.cdrs.lifecycle.repository import FindingCounts, findings_counts
from telecrm.cdrs.models import Cdr, CdrImport, CdrReject

# The same wall-clock time read in two time zones: at most 26 hours apart (UTC-12 to
# UTC+14), two days with room for the odd historical offset.
_OTHER_ZONE_REACH = dt.timedelta(days=2)


def add_import(session: Session, record: CdrImport) -> CdrImport:
    session.add(record)
    session.flush()
    return record


def unfinished_import(session: Session, file_name: str, file_format: str) -> CdrImport | None:
    """The latest import of this file that did not finish (crashed or interrupted)."""
    return session.scalars(
        select(CdrImport)
        .where(
            CdrImport.file_name == file_name,
            CdrImport.format == file_format,
            CdrImport.status.in_(("running", "interrupted")),
        )
        .order_by(CdrImport.id.desc())
        .limit(1)
    ).first()


def insert_cdrs(session: Session, rows: pl.DataFrame) -> int:
    """Store the rows (``records.stored_rows``) whose unique key is new; returns how many
    were stored. Rows already stored are skipped, never updated."""
    if rows.is_empty():
        return 0
    if is_postgres(session):
        return _insert_cdrs_postgres(session, rows)
    return _insert_cdrs_sqlite(session, rows)


def _insert_cdrs_postgres(session: Session, rows: pl.DataFrame) -> int:
    """COPY straight into ``cdrs``, the fast path of new calls, once the calls already
    stored are left out (``_stored_keys``); when a key arrived meanwhile (another
    import of the same calls at once) the COPY fails, is rolled back to its
    savepoint, and the batch goes through a staging table and ``INSERT ... ON
    CONFLICT DO NOTHING``."""
    import psycopg  # only on PostgreSQL: SQLite runs never load the driver

    connection = driver_connection(session)
    stored = _stored_keys(connection, rows)
    if stored:
        rows = rows.filter(~pl.col("unique_key").is_in(stored))
        if rows.is_empty():
            return 0
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT cdr_copy")
        try:
            copy_binary(cursor, "cdrs", rows)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT cdr_copy")
        else:
            cursor.execute("RELEASE SAVEPOINT cdr_copy")
            return rows.height
    columns = ", ".join(rows.columns)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cdr_import_stage ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM cdrs WITH NO DATA"
        )
        cursor.execute("TRUNCATE cdr_import_stage")
        copy_binary(cursor, "cdr_import_stage", rows)
        cursor.execute(
            f"INSERT INTO cdrs ({columns}) SELECT {columns} FROM cdr_import_stage "
            "ON CONFLICT (unique_key, start_time) DO NOTHING"
        )
        inserted: int = cursor.rowcount
        cursor.execute("TRUNCATE cdr_import_stage")
    return inserted


def _stored_keys(connection: Any, rows: pl.DataFrame) -> list[str]:
    """The keys of ``rows`` already in ``cdrs`` (PostgreSQL). There a call is unique
    by its key with its start instant, the partition key (migration 0014); the key
    holds the start as written, so a call stored again under another time zone (the
    same file imported with another ``--timezone``, a source's zone changed) has the
    same key at another instant, at most ``_OTHER_ZONE_REACH`` away: looking in the
    batch's days and those either side finds it, reading only their partitions."""
    first, last = rows.select(
        pl.col("start_time").min().alias("first"), pl.col("start_time").max().alias("last")
    ).row(0)
    window = (first - _OTHER_ZONE_REACH, last + _OTHER_ZONE_REACH)
    with connection.cursor() as cursor:
        span = _start_digits_span(rows)
        if span is not None:
            # New calls (the usual batch) have keys past every stored one: one look
            # along the unique index says so, without sending every key.
            cursor.execute(
                "SELECT EXISTS (SELECT FROM cdrs WHERE start_time >= %s AND start_time <= %s "
                "AND unique_key >= %s AND unique_key < %s)",
                (*window, *span),
            )
            row = cursor.fetchone()
            if not row or not row[0]:
                return []
        cursor.execute(
            "SELECT unique_key FROM cdrs WHERE start_time >= %s AND start_time <= %s "
            "AND unique_key = ANY(%s)",
            (*window, rows.get_column("unique_key").to_list()),
        )
        return [key for (key,) in cursor.fetchall()]


def _start_digits_span(rows: pl.DataFrame) -> tuple[str, str] | None:
    """From the batch's first start as written (the digits before a key's ``-``) to
    just past its last, as text every key of the batch sorts within, in any
    collation (the digits decide before the rest is read); None when the starts are
    not all written alike (then each key is looked for)."""
    digits = rows.get_column("unique_key").str.extract(r"^([0-9]+)-", 1)
    lengths = digits.str.len_bytes()
    if digits.null_count() or lengths.n_unique() != 1:
        return None
    first, last = str(digits.min()), str(digits.max())
    past = str(int(last) + 1).zfill(len(last))
    return (first, past) if len(past) == len(last) else None


def _insert_cdrs_sqlite(session: Session, rows: pl.DataFrame) -> int:
    connection = driver_connection(session)
    columns = ", ".join(rows.columns)
    marks = ", ".join("?" * rows.width)
    # ON CONFLICT on the key alone: OR IGNORE would also skip, silently, a row that
    # breaks a NOT NULL or CHECK constraint, and count it as a duplicate
    sql = f"INSERT INTO cdrs ({columns}) VALUES ({marks}) ON CONFLICT (unique_key) DO NOTHING"
    before = connection.total_changes
    executemany_sqlite(connection, sql, rows)
    return int(connection.total_changes - before)


def add_rejects(session: Session, file_name: str | None, rejects: list[dict[str, Any]]) -> None:
    """Keep the rejects, except those of ``file_name`` already kept (the same line with
    the same text: the file was imported again), and those of a source without files
    already kept (the same ``raw_key``: the row was read or pushed again)."""
    if file_name is not None and rejects:
        lines = [reject["line_number"] for reject in rejects]
        kept = set(
            session.execute(
                select(CdrReject.line_number, CdrReject.raw).where(
                    CdrReject.file_name == file_name,
                    CdrReject.line_number.between(min(lines), max(lines)),
                )
            ).all()
        )
        rejects = [r for r in rejects if (r["line_number"], r["raw"]) not in kept]
    if rejects:
        dialect = session.get_bind().dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            upsert(CdrReject).on_conflict_do_nothing(
                index_elements=[CdrReject.source, CdrReject.raw_key]
            ),
            [{"raw_key": None} | reject for reject in rejects],
        )


def get_import(session: Session, import_id: int) -> CdrImport | None:
    return session.get(CdrImport, import_id)


def imports(session: Session, limit: int) -> Sequence[CdrImport]:
    return session.scalars(select(CdrImport).order_by(CdrImport.id.desc()).limit(limit)).all()


def rejects(
    session: Session, import_id: int | None, source: str | None, limit: int
) -> Sequence[CdrReject]:
    query = select(CdrReject).order_by(CdrReject.id.desc()).limit(limit)
    if import_id is not None:
        query = query.where(CdrReject.import_id == import_id)
    if source is not None:
        query = query.where(CdrReject.source == source)
    return session.scalars(query).all()


def import_findings(session: Session, import_id: int, after_id: int) -> FindingCounts:
    """The findings in the calls ``import_id`` stored with an id above ``after_id``
    (a range of the primary key: no index on ``import_id`` to pay for at import)."""
    return findings_counts(session, Cdr.id > after_id, Cdr.import_id == import_id)
