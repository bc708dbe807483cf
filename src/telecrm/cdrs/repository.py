"""Every query of the CDR import, rating and export (the listing API has its own in
``listing_repository``). Bulk paths talk to the driver: COPY on PostgreSQL (binary,
encoded from Arrow by pgpq), ``executemany`` on SQLite, both inside the session's
transaction; none of them commits."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pgpq
import polars as pl
from sqlalchemy import BigInteger, Integer, String, and_, case, cast, func, insert, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.lifecycle.validation import Reason
from telecrm.cdrs.models import (
    COST_SCALE,
    Cdr,
    CdrImport,
    CdrRating,
    CdrReject,
    lifecycle_status_expression,
    rating_status_expression,
)
from telecrm.contracts.models import Contract
from telecrm.invoices.models import Invoice, InvoiceStatus
from telecrm.rates.models import RATE_SCALE, Rate
from telecrm.rating import engine
from telecrm.rating.types import RatingStatus

if TYPE_CHECKING:
    import psycopg

# CDRs on these invoices are settled: re-rating them would change a bill the customer has.
LOCKED_INVOICE_STATUSES = (
    InvoiceStatus.SENT,
    InvoiceStatus.PENDING_APPROVAL,
    InvoiceStatus.PAID,
)
# a rating as the engine gives it, after ``cdr_id``
RATING_COLUMNS = tuple(engine.RESULT_SCHEMA)[1:]
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"  # how SQLAlchemy stores a DateTime in SQLite
# Rows encoded at a time for a binary COPY: the server works on one piece while the
# next is encoded, instead of waiting for a whole batch to be.
_COPY_PIECE_ROWS = 8192
# The first key of the billing runs' advisory locks (PostgreSQL); the second is the day.
_RATING_DAY_LOCK = int.from_bytes(b"rate")
# Rows turned into Python values at a time for SQLite's executemany.
_SQLITE_SLICE_ROWS = 8192


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def _copy_binary(cursor: psycopg.Cursor[Any], table: str, frame: pl.DataFrame) -> None:
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


# --- import -------------------------------------------------------------------


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
    if _is_postgres(session):
        return _insert_cdrs_postgres(session, rows)
    return _insert_cdrs_sqlite(session, rows)


def _insert_cdrs_postgres(session: Session, rows: pl.DataFrame) -> int:
    """COPY straight into ``cdrs``, the fast path of new calls; when a key is already
    there (a re-import, an overlap) the COPY fails, is rolled back to its savepoint, and
    the batch goes through a staging table and ``INSERT ... ON CONFLICT DO NOTHING``."""
    import psycopg  # only on PostgreSQL: SQLite runs never load the driver

    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT cdr_copy")
        try:
            _copy_binary(cursor, "cdrs", rows)
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
        _copy_binary(cursor, "cdr_import_stage", rows)
        cursor.execute(
            f"INSERT INTO cdrs ({columns}) SELECT {columns} FROM cdr_import_stage "
            "ON CONFLICT (unique_key) DO NOTHING"
        )
        inserted: int = cursor.rowcount
        cursor.execute("TRUNCATE cdr_import_stage")
    return inserted


def _insert_cdrs_sqlite(session: Session, rows: pl.DataFrame) -> int:
    connection = _driver_connection(session)
    columns = ", ".join(rows.columns)
    marks = ", ".join("?" * rows.width)
    # ON CONFLICT on the key alone: OR IGNORE would also skip, silently, a row that
    # breaks a NOT NULL or CHECK constraint, and count it as a duplicate
    sql = f"INSERT INTO cdrs ({columns}) VALUES ({marks}) ON CONFLICT (unique_key) DO NOTHING"
    before = connection.total_changes
    _executemany_sqlite(connection, sql, rows)
    return int(connection.total_changes - before)


def _executemany_sqlite(connection: Any, sql: str, frame: pl.DataFrame) -> None:
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


def add_rejects(session: Session, file_name: str | None, rejects: list[dict[str, Any]]) -> None:
    """Keep the rejects, except those of ``file_name`` already kept (the same line with
    the same text: the file was imported again)."""
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
        session.execute(insert(CdrReject), rejects)


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


# --- findings -----------------------------------------------------------------


@dataclass(frozen=True)
class FindingCounts:
    flagged: int  # calls with at least one finding
    invalid: int  # of which a finding makes them unbillable
    reasons: dict[str, int]  # how many calls have each finding


def findings_counts(session: Session, *conditions: Any) -> FindingCounts:
    """What validation found in the calls that meet ``conditions``, counted in one
    statement however many there are: each finding is a quoted token of the stored
    JSON text, on both databases."""
    text = cast(Cdr.validation_errors, String)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Cdr.status == CdrState.INVALID.value, 1))), 0),
            *(
                func.coalesce(func.sum(case((text.like(f'%"{reason.value}"%'), 1))), 0)
                for reason in Reason
            ),
        ).where(*conditions, Cdr.validation_errors.is_not(None), text != "null")
    ).one()
    reasons = {reason.value: int(n) for reason, n in zip(Reason, row[2:], strict=True) if n}
    return FindingCounts(int(row[0]), int(row[1]), reasons)


def import_findings(session: Session, import_id: int, after_id: int) -> FindingCounts:
    """The findings in the calls ``import_id`` stored with an id above ``after_id``
    (a range of the primary key: no index on ``import_id`` to pay for at import)."""
    return findings_counts(session, Cdr.id > after_id, Cdr.import_id == import_id)


def max_cdr_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Cdr.id), 0))) or 0)


def excluded_counts(
    session: Session, start: dt.datetime, end: dt.datetime
) -> tuple[int, FindingCounts]:
    """The calls starting in ``[start, end)`` that billing cannot rate: how many are
    not validated yet, and the invalid ones with their findings (those a sent invoice
    holds are billed, and counted there)."""
    window = (Cdr.start_time >= start, Cdr.start_time < end)
    unvalidated = session.scalar(
        select(func.count()).where(*window, Cdr.status == CdrState.NEW.value)
    )
    invalid = findings_counts(
        session,
        *window,
        Cdr.status == CdrState.INVALID.value,
        ~select(CdrRating.cdr_id).where(CdrRating.cdr_id == Cdr.id).exists(),
    )
    return int(unvalidated or 0), invalid


# --- rating -------------------------------------------------------------------


def contracts_frame(session: Session) -> pl.DataFrame:
    rows = session.execute(
        select(
            Contract.id,
            Contract.accountcode,
            Contract.rate_group_id,
            Contract.rewrite_rules,
            Contract.currency,
        )
    ).all()
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={
            "contract_id": pl.Int64,
            "accountcode": pl.String,
            "rate_group_id": pl.Int64,
            "rewrite_rules": pl.List(pl.List(pl.String)),
            "currency": pl.String,
        },
        orient="row",
    )


def rates_frame(session: Session, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """The rates that may be in effect for a call starting in ``[start, end)``."""
    query = select(
        Rate.id,
        Rate.rate_group_id,
        Rate.rate_prefix + func.coalesce(Rate.area_prefix, ""),
        Rate.rate_type,
        Rate.billing_rate,
        Rate.connect_fee,
        Rate.billing_cycle,
        Rate.initial_increment,
        Rate.effective_from,
        Rate.effective_to,
    ).where(
        or_(Rate.effective_from.is_(None), Rate.effective_from < end),
        or_(Rate.effective_to.is_(None), Rate.effective_to > start),
    )
    rows = [
        (*row[:3], str(row[3].value), *row[4:])  # rate_type: the enum's value
        for row in session.execute(query).all()
    ]
    money = pl.Decimal(38, RATE_SCALE)
    return pl.DataFrame(
        rows,
        schema={
            "rate_id": pl.Int64,
            "rate_group_id": pl.Int64,
            "prefix": pl.String,
            "rate_type": pl.String,
            "billing_rate": money,
            "connect_fee": money,
            "billing_cycle": pl.Int64,
            "initial_increment": pl.Int64,
            "effective_from": pl.Datetime("us", "UTC"),
            "effective_to": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


_RATABLE_SCHEMA = pl.Schema(
    {
        "cdr_id": pl.Int64(),
        "accountcode": pl.String(),
        "dst": pl.String(),
        "start_time": pl.Datetime("us", "UTC"),
        "billsec": pl.Int64(),
        "disposition": pl.String(),
        **{f"old_{name}": engine.RESULT_SCHEMA[name] for name in RATING_COLUMNS},
    }
)


def _ratable_query(start: dt.datetime, end: dt.datetime, wanted: list[RatingStatus]) -> Any:
    """The CDRs starting in ``[start, end)`` whose rating status (pending when they
    have no rating yet) is ``wanted``, except the invalid ones and those on an invoice
    that was sent, awaits payment or is paid; with their current rating."""
    status = func.coalesce(CdrRating.rating_status, RatingStatus.PENDING.value)
    return (
        select(
            Cdr.id,
            Cdr.accountcode,
            Cdr.dst,
            Cdr.start_time,
            Cdr.billsec,
            Cdr.disposition,
            status,
            *(getattr(CdrRating, name) for name in RATING_COLUMNS[1:]),
        )
        # the rating's copy of the start time lets the join read the window's ratings
        # alone (by their index), not the whole table
        .outerjoin(
            CdrRating,
            and_(
                CdrRating.cdr_id == Cdr.id,
                CdrRating.start_time >= start,
                CdrRating.start_time < end,
            ),
        )
        .outerjoin(Invoice, Invoice.id == CdrRating.invoice_id)
        .where(
            Cdr.start_time >= start,
            Cdr.start_time < end,
            Cdr.status != CdrState.INVALID.value,
            status.in_([value.value for value in wanted]),
            or_(
                Invoice.status.is_(None),
                Invoice.status.not_in([value.value for value in LOCKED_INVOICE_STATUSES]),
            ),
        )
    )


def lock_rating_day(session: Session, day: dt.date) -> None:
    """Hold ``day`` (of the billing time zone) for this billing run until its
    transaction ends: a second run of the same day waits here for the first to
    commit, then finds the day's calls rated. On PostgreSQL a transaction-scoped
    advisory lock; on SQLite a billing run's transaction began by taking the write
    lock (``telecrm.db.writing``), which holds off every other writer already."""
    if _is_postgres(session):
        session.execute(
            select(
                func.pg_advisory_xact_lock(
                    cast(_RATING_DAY_LOCK, Integer), cast(day.toordinal(), Integer)
                )
            )
        )


def ratable_cdrs(
    session: Session, start: dt.datetime, end: dt.datetime, rerate: bool
) -> pl.DataFrame:
    """The CDRs starting in ``[start, end)`` to rate, with their current rating (to
    write back only what changes): those not rated yet, and with ``rerate`` the rated
    ones too, except those on an invoice that was sent, awaits payment or is paid.
    An invalid CDR is never rated: it waits, pending, until it is corrected."""
    wanted = [RatingStatus.PENDING, RatingStatus.UNRATED]
    if rerate:
        wanted.append(RatingStatus.RATED)
    query = _ratable_query(start, end, wanted)
    if _is_postgres(session):
        return _ratable_postgres(session, query)
    rows = session.execute(query).all()
    return pl.DataFrame(
        [(*row[:6], getattr(row[6], "value", row[6]), *row[7:]) for row in rows],
        schema=_RATABLE_SCHEMA,
        orient="row",
    )


def _ratable_postgres(session: Session, query: Any) -> pl.DataFrame:
    """The same rows through ``COPY ... TO STDOUT`` as CSV, read by Polars: a million
    rows without a million Python tuples. Times go out as microseconds since 1970."""
    columns = list(query.selected_columns)
    columns[3] = cast(func.extract("epoch", Cdr.start_time) * 1_000_000, BigInteger)
    compiled = query.with_only_columns(*columns).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    sql = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)"
    buffer = bytearray()
    with _driver_connection(session).cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
        while data := copy.read():
            buffer += data
    schema = dict(_RATABLE_SCHEMA) | {"start_time": pl.Int64, "old_cost": pl.String}
    frame = pl.read_csv(bytes(buffer), has_header=False, schema=schema)
    return frame.with_columns(
        pl.col("start_time").cast(pl.Datetime("us", "UTC")),
        pl.col("old_cost").cast(pl.Decimal(38, COST_SCALE)),
    )


def write_ratings(
    session: Session, ratings: pl.DataFrame, first_ratings: pl.Series, rated_at: dt.datetime
) -> None:
    """Store each CDR's new rating (``engine.RESULT_SCHEMA`` columns, ``cdr_id``
    first, plus the CDR's ``start_time``): a new ``cdr_ratings`` row where
    ``first_ratings`` is true (the CDR was pending), the row rewritten otherwise."""
    if ratings.is_empty():
        return
    frame = ratings.select(
        pl.col("cdr_id"),
        pl.col("start_time"),
        # the table's whole numbers are 4-byte (COPY's binary format says so)
        *(
            pl.col(name).cast(pl.Int32) if engine.RESULT_SCHEMA[name] == pl.Int64 else name
            for name in RATING_COLUMNS
        ),
        rated_at=pl.lit(rated_at, pl.Datetime("us", "UTC")),
    )
    new, changed = frame.filter(first_ratings), frame.filter(~first_ratings)
    if _is_postgres(session):
        _write_ratings_postgres(session, new, changed)
    else:
        _write_ratings_sqlite(session, new, changed)


def _write_ratings_postgres(session: Session, new: pl.DataFrame, changed: pl.DataFrame) -> None:
    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        if not new.is_empty():
            _copy_binary(cursor, "cdr_ratings", new)
        if changed.is_empty():
            return
        columns = [*RATING_COLUMNS, "rated_at"]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cdr_rating_stage ON COMMIT DELETE ROWS AS "
            f"SELECT cdr_id, {', '.join(columns)} FROM cdr_ratings WITH NO DATA"
        )
        cursor.execute("TRUNCATE cdr_rating_stage")
        _copy_binary(cursor, "cdr_rating_stage", changed.drop("start_time"))
        assignments = ", ".join(f"{name} = r.{name}" for name in columns)
        cursor.execute(
            f"UPDATE cdr_ratings SET {assignments} FROM cdr_rating_stage r "
            "WHERE cdr_ratings.cdr_id = r.cdr_id"
        )
        cursor.execute("TRUNCATE cdr_rating_stage")


def _write_ratings_sqlite(session: Session, new: pl.DataFrame, changed: pl.DataFrame) -> None:
    connection = _driver_connection(session)
    # Money on SQLite: an integer count of 10**-6 units
    micro_units = (pl.col("cost") * 10**COST_SCALE).cast(pl.Int64)
    if not new.is_empty():
        marks = ", ".join("?" * new.width)
        sql = f"INSERT INTO cdr_ratings ({', '.join(new.columns)}) VALUES ({marks})"
        _executemany_sqlite(connection, sql, new.with_columns(micro_units))
    if not changed.is_empty():
        names = [name for name in changed.columns if name not in ("cdr_id", "start_time")]
        sql = f"UPDATE cdr_ratings SET {', '.join(f'{n} = ?' for n in names)} WHERE cdr_id = ?"
        _executemany_sqlite(
            connection, sql, changed.select(*names, "cdr_id").with_columns(micro_units)
        )


# --- export -------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "call_id",
    "accountcode",
    "src",
    "dst",
    "start_time",
    "billsec",
    "disposition",
    "cleaned_number",
    "matched_prefix",
    "rate_id",
    "billable_seconds",
    "cost",
    "rating_status",
    "rating_reason",
    "status",
    "validation_errors",
)


def export_rows(
    session: Session, start: dt.datetime, end: dt.datetime, batch: int
) -> Iterator[Sequence[Any]]:
    """The CDRs starting in ``[start, end)``, oldest first, fetched ``batch`` at a
    time (keyset on ``(start_time, id)``): memory holds one batch."""
    after: tuple[dt.datetime, int] | None = None
    special = {
        "rating_status": rating_status_expression(),
        "status": lifecycle_status_expression(),
    }
    columns = [
        special[name].label(name)
        if name in special
        else getattr(CdrRating if name in RATING_COLUMNS else Cdr, name)
        for name in EXPORT_COLUMNS
    ]
    while True:
        query = (
            select(*columns)
            .outerjoin(CdrRating, CdrRating.cdr_id == Cdr.id)
            .where(Cdr.start_time >= start, Cdr.start_time < end)
            .order_by(Cdr.start_time, Cdr.id)
            .limit(batch)
        )
        if after is not None:
            query = query.where(
                or_(Cdr.start_time > after[0], and_(Cdr.start_time == after[0], Cdr.id > after[1]))
            )
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        after = (rows[-1].start_time, rows[-1].id)
