"""On PostgreSQL, ``cdrs`` and ``cdr_ratings`` become tables range-partitioned by
month on ``start_time`` (native declarative partitioning): a month's queries and
vacuums read its partition alone, and an old month is archived and dropped whole
(``telecrm db retention``). The months are those of the billing time zone
(``TELECRM_TIMEZONE``), as invoices count them. The rows move into a partition per
month that holds calls, plus the current month and three ahead, and a DEFAULT
partition takes any other instant; ``telecrm db partitions --ensure`` makes more.

A primary key or unique constraint of a partitioned table must hold its partition
key: ``cdrs`` is keyed by ``(id, start_time)`` (ids still come from one sequence),
``cdr_ratings`` by ``(cdr_id, start_time)``, and a call's ``unique_key`` is unique
with its ``start_time``. The key starts with the call's start as written, so a call
stored again under the same time zone hits that constraint; under another zone its
start instant differs by at most a day, and the import looks for the key in those
days before writing (``cdrs/imports/repository.py``). ``sync_log`` keeps its
``cdr_id`` without a foreign key (none can point at a partitioned table's ``id``
alone); retention deletes the log of the calls it drops, as the cascade did.

SQLite keeps one table of each: only the foreign key goes. The downgrade moves the
rows back into plain tables (the calls of months dropped by retention are in their
Parquet archive, not here).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00.000000
"""

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from alembic import op

from telecrm.config import get_settings

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 3
_INDEXES = {
    "cdrs": (
        "CREATE INDEX ix_cdrs_start_time ON {table} (start_time)",
        "CREATE INDEX ix_cdrs_sync_status ON {table} (sync_status)",
    ),
    "cdr_ratings": (
        "CREATE INDEX ix_cdr_ratings_contract_id_start_time ON {table} (contract_id, start_time)",
        "CREATE INDEX ix_cdr_ratings_invoice_id ON {table} (invoice_id) "
        "WHERE invoice_id IS NOT NULL",
        "CREATE INDEX ix_cdr_ratings_unbilled ON {table} (contract_id, start_time) "
        "WHERE rating_status = 'rated' AND invoice_id IS NULL",
        "CREATE INDEX ix_cdr_ratings_start_time ON {table} USING brin (start_time)",
    ),
}
# the keys of each table: partitioned (upgrade), plain (downgrade)
_PARTITIONED_KEYS = {
    "cdrs": (
        "pk_cdrs PRIMARY KEY (id, start_time)",
        "uq_cdrs_unique_key_start_time UNIQUE (unique_key, start_time)",
    ),
    "cdr_ratings": ("pk_cdr_ratings PRIMARY KEY (cdr_id, start_time)",),
}
_PLAIN_KEYS = {
    "cdrs": ("pk_cdrs PRIMARY KEY (id)", "uq_cdrs_unique_key UNIQUE (unique_key)"),
    "cdr_ratings": ("pk_cdr_ratings PRIMARY KEY (cdr_id)",),
}


def _is_postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _drop_keys_and_indexes(table: str, keys: Sequence[str]) -> None:
    for key in keys:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {key.split()[0]}")
    for index in _INDEXES[table]:
        op.execute(f"DROP INDEX {index.split()[2]}")


def _add_keys_and_indexes(table: str, keys: Sequence[str]) -> None:
    for key in keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {key}")
    for index in _INDEXES[table]:
        op.execute(index.format(table=table))


def _months(zone: ZoneInfo) -> list[tuple[int, int]]:
    """The billing months that hold calls or ratings, this one and those ahead."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT extract(year FROM local)::int, extract(month FROM local)::int FROM ("
        "SELECT start_time AT TIME ZONE %(zone)s AS local FROM cdrs_unpartitioned UNION "
        "SELECT start_time AT TIME ZONE %(zone)s FROM cdr_ratings_unpartitioned) AS starts",
        {"zone": zone.key},
    )
    months = {(int(year), int(month)) for year, month in rows}
    today = dt.datetime.now(zone)
    for ahead in range(MONTHS_AHEAD + 1):
        index = today.year * 12 + today.month - 1 + ahead
        months.add((index // 12, index % 12 + 1))
    return sorted(months)


def _bound(year: int, month: int, zone: ZoneInfo) -> str:
    index = year * 12 + month - 1
    start = dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).astimezone(dt.UTC)
    return f"'{start.isoformat()}'"


def upgrade() -> None:
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_constraint("fk_sync_log_cdr_id_cdrs", type_="foreignkey")
    if not _is_postgres():
        return
    zone = ZoneInfo(get_settings().timezone)
    for table in ("cdrs", "cdr_ratings"):
        _drop_keys_and_indexes(table, _PLAIN_KEYS[table])
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS) PARTITION BY RANGE (start_time)"
        )
    months = _months(zone)
    for table in ("cdrs", "cdr_ratings"):
        for year, month in months:
            op.execute(
                f"CREATE TABLE {table}_{year:04d}_{month:02d} PARTITION OF {table} "
                f"FOR VALUES FROM ({_bound(year, month, zone)}) "
                f"TO ({_bound(year, month + 1, zone)})"
            )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
        _add_keys_and_indexes(table, _PARTITIONED_KEYS[table])
    op.execute("ALTER SEQUENCE cdrs_id_seq OWNED BY cdrs.id")
    for table in ("cdrs", "cdr_ratings"):
        op.execute(f"DROP TABLE {table}_unpartitioned")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if _is_postgres():
        for table in ("cdrs", "cdr_ratings"):
            _drop_keys_and_indexes(table, _PARTITIONED_KEYS[table])
            op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
            op.execute(
                f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS "
                "INCLUDING CONSTRAINTS)"
            )
            op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
            _add_keys_and_indexes(table, _PLAIN_KEYS[table])
        op.execute("ALTER SEQUENCE cdrs_id_seq OWNED BY cdrs.id")
        for table in ("cdrs", "cdr_ratings"):
            op.execute(f"DROP TABLE {table}_partitioned")
    # the log of calls retention dropped (their cascade, had the key been there)
    op.execute("DELETE FROM sync_log WHERE cdr_id NOT IN (SELECT id FROM cdrs)")
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_sync_log_cdr_id_cdrs", "cdrs", ["cdr_id"], ["id"], ondelete="CASCADE"
        )
