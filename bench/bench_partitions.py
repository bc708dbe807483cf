"""Partitions on PostgreSQL (issue 12 §2): a month of 1,000,000 generated calls
imported and rated into their month's partitions, then each partition's rows and
bytes on disk (table, indexes, TOAST; after VACUUM ANALYZE), per call and per 100
million calls, for the sizing table. Also times the import and the rating, which now
write into partitions (the import also looks each batch's keys up in its days)."""

from __future__ import annotations

import os

import psycopg
from rich.console import Console

from bench import cdr_data
from bench.bench_process_billing import _reference_data, _run, scratch_database

ROWS = 1_000_000
console = Console()


def main() -> None:
    path = cdr_data.master_csv(ROWS)
    with scratch_database() as (url, env):
        _run(env, "db", "upgrade")
        _run(env, "db", "partitions", "--ensure", "1", "--from", "2025-11")
        _reference_data(url)
        imported = _run(env, "cdr", "import", str(path), "--format", "asterisk-csv")
        rated = _run(env, "cdr", "process-billing", "--from", "2025-11-01", "--to", "2025-11-30")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE cdrs")
            connection.execute("VACUUM ANALYZE cdr_ratings")
            rows = connection.execute(
                "SELECT c.relname, (SELECT count(*) FROM cdrs_2025_11), "
                "(SELECT count(*) FROM cdr_ratings_2025_11), pg_total_relation_size(c.oid), "
                "pg_relation_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
                "WHERE c.relname IN ('cdrs_2025_11', 'cdr_ratings_2025_11', "
                "'cdrs_default', 'cdr_ratings_default') ORDER BY c.relname"
            ).fetchall()
            load = os.getloadavg()[0]
        console.print(
            f"import of {ROWS:,} CDRs into November's partition: {imported:.1f} s; "
            f"process-billing of November: {rated:.1f} s (load {load:.1f})"
        )
        total = 0
        for relname, calls, ratings, size, heap, indexes in rows:
            count = ratings if relname.startswith("cdr_ratings") else calls
            count = count if relname.endswith("2025_11") else 0
            total += size if relname.endswith("2025_11") else 0
            console.print(
                f"{relname}: {count:,} rows, {size / 2**20:.1f} MiB "
                f"(heap {heap / 2**20:.1f} MiB, indexes {indexes / 2**20:.1f} MiB)"
            )
        per_call = total / ROWS
        console.print(
            f"cdrs + cdr_ratings per rated call: {per_call:.0f} bytes; "
            f"a month of 100M calls: {per_call * 1e8 / 2**30:.1f} GiB, "
            f"of 1B: {per_call * 1e9 / 2**30:.0f} GiB"
        )
