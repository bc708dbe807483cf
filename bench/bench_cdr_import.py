"""``telecrm cdr import`` of a 1,000,000-row Master.csv (21 columns, 287 MB).
Targets (issue 4): into PostgreSQL within 1.5 times PostgreSQL's own ``\\copy`` of the
same file into a bare table of text columns (both measured here, alternately, in a
scratch database made and dropped for the run); into SQLite under 15 s; peak memory
under 1.5 GiB. Each import runs as the command a user types, in its own process; each
round prints the machine's load average with its figures."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from rich.console import Console

from bench import cdr_data

ROWS = 1_000_000
ROUNDS = 2
POSTGRES = os.environ.get(
    "TELECRM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TELECRM = [sys.executable, "-m", "telecrm"]
BARE = ", ".join(f"{name} text" for name in (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start_time", "answer_time", "end_time", "duration", "billsec",
    "disposition", "amaflags", "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
))  # fmt: skip
console = Console()


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time and peak resident memory (KiB) of a command."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name, *command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - started
        return elapsed, int(report.read().strip().splitlines()[-1])


def _import(url: str, path: Path) -> tuple[float, int]:
    env = {**os.environ, "TELECRM_DATABASE_URL": url, "TELECRM_LOG_LEVEL": "WARNING"}
    command = [*TELECRM, "cdr", "import", str(path), "--format", "asterisk-csv"]
    return _timed([*command, "--timezone", "Asia/Jakarta"], env)


def _migrate(url: str) -> None:
    env = {**os.environ, "TELECRM_DATABASE_URL": url}
    subprocess.run([*TELECRM, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)


def postgres(path: Path) -> None:
    name = f"telecrm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    try:
        _migrate(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE TABLE bare ({BARE})")
        copies, imports, memory = [], [], []
        for _ in range(ROUNDS):
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("TRUNCATE bare")
                connection.execute("TRUNCATE cdrs, cdr_imports, cdr_rejects CASCADE")
                connection.execute("CHECKPOINT")
            copy = f"\\copy bare FROM '{path}' WITH (FORMAT csv)"
            copies.append(_timed(["psql", url, "-q", "-c", copy])[0])
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("CHECKPOINT")
            elapsed, peak = _import(url, path)
            imports.append(elapsed)
            memory.append(peak)
            console.print(
                f"  round: \\copy {copies[-1]:.1f} s, cdr import {elapsed:.1f} s ({_load()})"
            )
        copy, imported = statistics.median(copies), statistics.median(imports)
        console.print(
            f"PostgreSQL: psql \\copy into a bare table {copy:.1f} s; cdr import {imported:.1f} s "
            f"= {imported / copy:.2f}x (target 1.5x); peak {max(memory) / 1024:.0f} MiB"
        )
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite(path: Path) -> None:
    imports, memory = [], []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(dir=cdr_data.DATA) as folder:
            url = f"sqlite:///{folder}/bench.db"
            _migrate(url)
            elapsed, peak = _import(url, path)
        imports.append(elapsed)
        memory.append(peak)
        console.print(f"  round: cdr import {elapsed:.1f} s ({_load()})")
    console.print(
        f"SQLite: cdr import {statistics.median(imports):.1f} s (target 15 s); "
        f"peak {max(memory) / 1024:.0f} MiB (target 1,536 MiB)"
    )


def _load() -> str:
    """The machine's load: other work on it slows what is measured."""
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    path = cdr_data.master_csv(ROWS)
    console.print(f"{path.name}: {ROWS:,} rows, {path.stat().st_size / 2**20:.0f} MiB")
    postgres(path)
    sqlite(path)
