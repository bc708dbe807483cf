"""``telecrm cdr process-billing`` of a month of 1,000,000 CDRs on PostgreSQL (4 rate
groups of 1,250 prefixes, 200 contracts). Target (issue 4): under 10 s. The CDRs are
imported first with ``telecrm cdr import`` (not timed) into a scratch database made and
dropped for the run; then the month is rated (every CDR pending), and rated again with
``--rerate`` (nothing changed: nothing is written back)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from rich.console import Console

from bench import cdr_data

ROWS = 1_000_000
POSTGRES = os.environ.get(
    "TELECRM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TELECRM = [sys.executable, "-m", "telecrm"]
console = Console()


def _reference_data(url: str) -> None:
    rates, contracts = cdr_data.rates(), cdr_data.contracts()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO rate_groups (id, name) VALUES (%s, %s)",
            [(group, f"Group {group}") for group in range(1, cdr_data.GROUPS + 1)],
        )
        cursor.executemany(
            "INSERT INTO rates (id, rate_group_id, rate_prefix, area_prefix, rate_type, "
            "billing_rate, connect_fee, billing_cycle, initial_increment) "
            "VALUES (%s, %s, %s, '', %s, %s, %s, %s, %s)",
            rates.select(
                "rate_id",
                "rate_group_id",
                "prefix",
                "rate_type",
                "billing_rate",
                "connect_fee",
                "billing_cycle",
                "initial_increment",
            ).rows(),
        )
        cursor.executemany(
            "INSERT INTO contracts (id, company_name, accountcode, rate_group_id, currency, "
            "tax_rate, payment_terms_days, status) "
            "VALUES (%s, %s, %s, %s, 'IDR', 11, 30, 'active')",
            [
                (contract_id, f"PT {code}", code, group)
                for contract_id, code, group in contracts.select(
                    "contract_id", "accountcode", "rate_group_id"
                ).iter_rows()
            ],
        )


def _run(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([*TELECRM, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _billing(env: dict[str, str], *extra: str) -> float:
    return _run(env, "cdr", "process-billing", "--from", "2025-11-01", "--to", "2025-11-30", *extra)


@contextmanager
def scratch_database() -> Iterator[tuple[str, dict[str, str]]]:
    """A new PostgreSQL database (its psycopg URL) and the environment of ``telecrm``
    commands on it (billing time zone Asia/Jakarta), dropped afterwards."""
    name = f"telecrm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    env = {
        **os.environ,
        "TELECRM_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "TELECRM_TIMEZONE": "Asia/Jakarta",
        "TELECRM_LOG_LEVEL": "WARNING",
    }
    try:
        yield url, env
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    path = cdr_data.master_csv(ROWS)
    with scratch_database() as (url, env):
        _run(env, "db", "upgrade")
        _reference_data(url)
        loaded = _run(env, "cdr", "import", str(path), "--format", "asterisk-csv")
        console.print(f"setup: {ROWS:,} CDRs imported in {loaded:.1f} s (not part of the figure)")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE cdrs")
            connection.execute("CHECKPOINT")
        first = _billing(env)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CHECKPOINT")
        again = _billing(env, "--rerate")
        with psycopg.connect(url) as connection:
            counts = connection.execute(
                "SELECT coalesce(r.rating_status, 'pending'), count(*), sum(r.cost) "
                "FROM cdrs c LEFT JOIN cdr_ratings r ON r.cdr_id = c.id GROUP BY 1 ORDER BY 1"
            ).fetchall()
        console.print(
            f"process-billing, November 2025, {ROWS:,} CDRs on PostgreSQL: {first:.1f} s "
            f"(target 10 s); again with --rerate (nothing changes): {again:.1f} s"
        )
        console.print(", ".join(f"{status}: {n:,}" for status, n, _ in counts))
