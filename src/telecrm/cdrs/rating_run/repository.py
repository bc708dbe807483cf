"""Every query of the rating run (``process-billing``): the contracts and rates it
rates with, the calls of a day to rate, their ratings written back in bulk, and what
it could not rate. None of them commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Integer, cast, func, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.bulk import copy_binary, driver_connection, executemany_sqlite, is_postgres
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.lifecycle.repository import FindingCounts, findings_counts
from telecrm.cdrs.models import Cdr, CdrRating, rating_of_call
from telecrm.cdrs.rating_run.usage import not_locked_by_invoice
from telecrm.contracts.models import Contract
from telecrm.money import COST_SCALE, RATE_SCALE
from telecrm.rates.models import Rate
from telecrm.rating import engine
from telecrm.rating.types import RatingStatus

# a rating as the engine gives it, after ``cdr_id``
RATING_COLUMNS = tuple(engine.RESULT_SCHEMA)[1:]
# The first key of the billing runs' advisory locks (PostgreSQL); the second is the day.
_RATING_DAY_LOCK = int.from_bytes(b"rate")
# A shard's lock: this plus (shards << 8 | shard), in a range apart from the day's.
_RATING_SHARD_LOCK = int.from_bytes(b"rs\0\0")
MAX_SHARDS = 256


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
        ~select(CdrRating.cdr_id).where(rating_of_call(start, end)).exists(),
    )
    return int(unvalidated or 0), invalid


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
        .outerjoin(CdrRating, rating_of_call(start, end))
        .where(
            Cdr.start_time >= start,
            Cdr.start_time < end,
            Cdr.status != CdrState.INVALID.value,
            status.in_([value.value for value in wanted]),
            not_locked_by_invoice.ask(CdrRating.invoice_id),
        )
    )


def lock_rating_day(session: Session, day: dt.date, shard: tuple[int, int] = (0, 1)) -> None:
    """Hold ``day`` (of the billing time zone) for this billing run until its
    transaction ends: a second run of the same day waits here for the first to
    commit, then finds the day's calls rated. On PostgreSQL a transaction-scoped
    advisory lock; on SQLite a billing run's transaction began by taking the write
    lock (``telecrm.db.writing``), which holds off every other writer already.

    A shard ``(k, n)`` of the day holds the day shared (runs of other shards go on
    side by side; a run of the whole day waits for them all) and its shard alone."""
    if not is_postgres(session):
        return
    ordinal = cast(day.toordinal(), Integer)
    index, shards = shard
    if shards == 1:
        session.execute(
            select(func.pg_advisory_xact_lock(cast(_RATING_DAY_LOCK, Integer), ordinal))
        )
        return
    if not 0 <= index < shards <= MAX_SHARDS:
        raise ValueError(f"shard {index} of {shards}: at most {MAX_SHARDS} shards")
    session.execute(
        select(func.pg_advisory_xact_lock_shared(cast(_RATING_DAY_LOCK, Integer), ordinal))
    )
    key = _RATING_SHARD_LOCK + (shards << 8 | index)
    session.execute(select(func.pg_advisory_xact_lock(cast(key, Integer), ordinal)))


def ratable_cdrs(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    rerate: bool,
    shard: tuple[int, int] = (0, 1),
) -> pl.DataFrame:
    """The CDRs starting in ``[start, end)`` to rate, with their current rating (to
    write back only what changes): those not rated yet, and with ``rerate`` the rated
    ones too, except those on an invoice that was sent, awaits payment or is paid.
    An invalid CDR is never rated: it waits, pending, until it is corrected."""
    wanted = [RatingStatus.PENDING, RatingStatus.UNRATED]
    if rerate:
        wanted.append(RatingStatus.RATED)
    query = _ratable_query(start, end, wanted)
    index, shards = shard
    if shards > 1:
        query = query.where(Cdr.id % shards == index)
    if is_postgres(session):
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
    with driver_connection(session).cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
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
    if is_postgres(session):
        _write_ratings_postgres(session, new, changed)
    else:
        _write_ratings_sqlite(session, new, changed)


def _write_ratings_postgres(session: Session, new: pl.DataFrame, changed: pl.DataFrame) -> None:
    connection = driver_connection(session)
    with connection.cursor() as cursor:
        if not new.is_empty():
            copy_binary(cursor, "cdr_ratings", new)
        if changed.is_empty():
            return
        columns = [*RATING_COLUMNS, "rated_at"]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cdr_rating_stage ON COMMIT DELETE ROWS AS "
            f"SELECT cdr_id, start_time, {', '.join(columns)} FROM cdr_ratings WITH NO DATA"
        )
        cursor.execute("TRUNCATE cdr_rating_stage")
        copy_binary(cursor, "cdr_rating_stage", changed)
        assignments = ", ".join(f"{name} = r.{name}" for name in columns)
        # the rows' window, said outright: it confines the update to its months'
        # partitions (the join's start_time alone does not)
        first, last = changed.select(
            pl.col("start_time").min().alias("first"), pl.col("start_time").max().alias("last")
        ).row(0)
        cursor.execute(
            f"UPDATE cdr_ratings SET {assignments} FROM cdr_rating_stage r "
            "WHERE cdr_ratings.cdr_id = r.cdr_id AND cdr_ratings.start_time = r.start_time "
            "AND cdr_ratings.start_time >= %s AND cdr_ratings.start_time <= %s",
            (first, last),
        )
        cursor.execute("TRUNCATE cdr_rating_stage")


def _write_ratings_sqlite(session: Session, new: pl.DataFrame, changed: pl.DataFrame) -> None:
    connection = driver_connection(session)
    # Money on SQLite: an integer count of 10**-6 units
    micro_units = (pl.col("cost") * 10**COST_SCALE).cast(pl.Int64)
    if not new.is_empty():
        marks = ", ".join("?" * new.width)
        sql = f"INSERT INTO cdr_ratings ({', '.join(new.columns)}) VALUES ({marks})"
        executemany_sqlite(connection, sql, new.with_columns(micro_units))
    if not changed.is_empty():
        names = [name for name in changed.columns if name not in ("cdr_id", "start_time")]
        sql = f"UPDATE cdr_ratings SET {', '.join(f'{n} = ?' for n in names)} WHERE cdr_id = ?"
        executemany_sqlite(
            connection, sql, changed.select(*names, "cdr_id").with_columns(micro_units)
        )


def pending_rating_window(session: Session) -> tuple[dt.datetime, dt.datetime] | None:
    """From the earliest to just after the latest start of the CDRs not rated yet."""
    first, last = session.execute(
        select(func.min(Cdr.start_time), func.max(Cdr.start_time))
        .outerjoin(CdrRating, rating_of_call())
        .where(CdrRating.cdr_id.is_(None), Cdr.status != CdrState.INVALID.value)
    ).one()
    if first is None:
        return None
    return first, last + dt.timedelta(microseconds=1)
