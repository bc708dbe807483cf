"""Every query of the partitions (PostgreSQL only): the catalog's list of them with
their bounds, rows and size; a month's partition made, moving the rows the DEFAULT
partition holds for it; a month read out for its archive, and dropped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import JSON, func, select, text
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.db import Base

# The partitioned tables: a month is made and dropped in both at once.
PARTITIONED_TABLES = (Cdr.__tablename__, CdrRating.__tablename__)
# The first key of the advisory lock that lets one process at a time change partitions.
_PARTITIONS_LOCK = int.from_bytes(b"part")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    start: dt.datetime | None  # None: the DEFAULT partition
    end: dt.datetime | None
    rows: int
    bytes: int


def lock_partitions(session: Session) -> None:
    """Hold the partitions for this transaction: a second ``ensure`` or retention run
    waits, then finds the work done."""
    session.execute(select(func.pg_advisory_xact_lock(_PARTITIONS_LOCK)))


def partitions(session: Session, count_rows: bool = True) -> list[Partition]:
    """Every partition of the partitioned tables, by table and start (DEFAULT last),
    with its rows (counted) and its size on disk (table, indexes and TOAST)."""
    rows = session.execute(
        text(
            "SELECT parent.relname, child.relname, "
            "(regexp_match(pg_get_expr(child.relpartbound, child.oid), "
            "$$FROM \\('([^']+)'\\)$$))[1]::timestamptz, "
            "(regexp_match(pg_get_expr(child.relpartbound, child.oid), "
            "$$TO \\('([^']+)'\\)$$))[1]::timestamptz, "
            "pg_total_relation_size(child.oid) "
            "FROM pg_inherits JOIN pg_class parent ON parent.oid = inhparent "
            "JOIN pg_class child ON child.oid = inhrelid "
            "WHERE parent.relname = ANY(:tables) "
            "AND parent.relnamespace = to_regnamespace(current_schema())::oid"
        ),
        {"tables": list(PARTITIONED_TABLES)},
    ).all()
    found = [
        Partition(
            table,
            name,
            start,
            end,
            _count(session, name) if count_rows else 0,
            int(size),
        )
        for table, name, start, end, size in rows
    ]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda p: (PARTITIONED_TABLES.index(p.table), p.start or far, p.name))


def _count(session: Session, name: str) -> int:
    return int(session.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)


def create_partition(
    session: Session, table: str, name: str, start: dt.datetime, end: dt.datetime
) -> int:
    """Make ``name``, the partition of ``table`` for ``[start, end)``; returns how many
    rows it took over from the DEFAULT partition. Those rows would make PostgreSQL
    refuse the new partition, so they move first: into a table of the same shape,
    attached once the DEFAULT partition holds none of its range."""
    bounds = {"start": start, "end": end}
    # DDL takes no parameters: the bounds are written out (instants made here)
    values = f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    in_range = "start_time >= :start AND start_time < :end"
    waiting = session.scalar(text(f"SELECT count(*) FROM {table}_default WHERE {in_range}"), bounds)
    if not waiting:
        session.execute(text(f"CREATE TABLE {name} PARTITION OF {table} {values}"))
        return 0
    session.execute(
        text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    session.execute(
        text(
            f"WITH moved AS (DELETE FROM {table}_default WHERE {in_range} RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    session.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} {values}"))
    return int(waiting)


def read_partition(session: Session, table: str, name: str) -> pl.DataFrame:
    """Every row of a partition of ``table`` (an archive's content); JSON as its text."""
    columns = ", ".join(
        f"{column.name}::text AS {column.name}" if isinstance(column.type, JSON) else column.name
        for column in Base.metadata.tables[table].columns
    )
    frame = pl.read_database(f'SELECT {columns} FROM "{name}"', session.connection())
    # instants in UTC, whatever the session's TimeZone named it
    return frame.with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC"))


def drop_partition(session: Session, name: str) -> None:
    session.execute(text(f'DROP TABLE "{name}"'))


def delete_sync_log_of(session: Session, cdrs_partition: str) -> int:
    """The CRM sync log of a month's calls (what the foreign key's cascade did)."""
    result: Any = session.execute(
        text(f'DELETE FROM sync_log WHERE cdr_id IN (SELECT id FROM "{cdrs_partition}")')
    )
    return int(result.rowcount or 0)


def lock_month(session: Session, names: list[str]) -> None:
    """No write reaches a month being archived until it is dropped: what the archive
    holds is what is dropped."""
    session.execute(text(f"LOCK TABLE {', '.join(names)} IN SHARE MODE"))
