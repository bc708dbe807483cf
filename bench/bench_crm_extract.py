"""``telecrm crm extract --domain contacts`` of 100,000 contacts from the local HubSpot
server (the tests' fake, on loopback), into a migrated SQLite file (issue 3: under
60 s and under 1 GiB of memory).

The fake runs in this process; the extract runs as the real command in a child
process, so that its wall time and peak memory (max RSS) are the command's alone.
The 1,000 companies the contacts belong to are extracted first (not timed). Then
the contacts twice: the first run inserts them all, the second finds them all
unchanged. With ``TELECRM_BENCH_POSTGRES_URL`` it runs on a new database on that
PostgreSQL server instead of the SQLite file.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from tests.crm.fake_hubspot import FakeHubSpot

from telecrm import migrations
from telecrm.config import Settings
from telecrm.contacts.models import Contact
from telecrm.db import make_engine, session_scope

CONTACTS = 100_000
COMPANIES = 1_000
TARGET_SECONDS = 60.0
TARGET_BYTES = 1024**3
DATA = Path(__file__).parent / "data" / "crm_extract"
console = Console()


def _phone(rng: random.Random, n: int) -> str:
    """Indonesian numbers in local notation, and international ones."""
    return rng.choice(
        [
            f"0812-{n // 10000:04d}-{n % 10000:04d}",
            f"0812{n:08d}",
            f"(021) {5_000_000 + n % 4_999_999:07d}",
            f"+62 812 {n // 10000:04d} {n % 10000:04d}",
            f"+44 20 7946 {n % 10000:04d}",
            f"+65 6{n % 10_000_000:07d}",
            f"+1 415 555 {n % 10000:04d}",
        ]
    )


def _fill(hubspot: FakeHubSpot) -> None:
    rng = random.Random(3)
    companies = [
        hubspot.add(
            "companies",
            {
                "account_id": n,
                "name": f"PT Bench {n}",
                "industry": "Telecommunications",
                "annualrevenue": f"{rng.randrange(1, 10**7)}.00",
                "region": rng.choice(["Asia", "Europe", "North America"]),
            },
        )
        for n in range(1, COMPANIES + 1)
    ]
    sources = ["Website", "Referral", "Email Campaign"]
    for n in range(1, CONTACTS + 1):
        company = rng.choice(companies) if rng.random() < 0.8 else None
        hubspot.add(
            "contacts",
            {
                "contact_id": f"B{n:06d}",
                "firstname": rng.choice(["Budi", "Siti", "Emma", "Kenji", "Priya"]),
                "lastname": rng.choice(["Santoso", "Halim", "Smith", "Tanaka", "Kumar"]),
                "email": f"contact{n}@bench{n % 97}.example.com",
                "phone": _phone(rng, n),
                "jobtitle": rng.choice(["CEO", "IT Manager", ""]),
                "lead_source": rng.choice(sources),
                "last_contact_date": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            },
            company=company,
        )


def _run(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Wall seconds, peak memory (max RSS, bytes) and output of ``telecrm ARGS`` run
    in a child process."""
    code = "from telecrm.cli import run; run()"
    log = DATA / "command.log"
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", code, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    output = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"telecrm {' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss * 1024, output  # ru_maxrss: KiB on Linux


@contextmanager
def _database() -> Iterator[str]:
    """The SQLite file; or, with TELECRM_BENCH_POSTGRES_URL, a new database on that
    server, dropped afterwards."""
    server = os.environ.get("TELECRM_BENCH_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{DATA / 'crm.db'}"
        return
    url = make_url(Settings.model_validate({"database_url": server}).database_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"telecrm_bench_crm_extract_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    with _database() as url:
        _measure(url)


def _measure(url: str) -> None:
    engine = make_engine(url)
    migrations.upgrade(engine)
    with FakeHubSpot() as hubspot:
        started = time.perf_counter()
        _fill(hubspot)
        console.print(
            f"local HubSpot at {hubspot.url}: {COMPANIES:,} companies, {CONTACTS:,} contacts "
            f"({time.perf_counter() - started:.1f} s)"
        )
        env: dict[str, Any] = {
            **os.environ,
            "TELECRM_DATABASE_URL": url,
            "TELECRM_HUBSPOT_TOKEN": hubspot.token,
            "TELECRM_HUBSPOT_BASE_URL": hubspot.url,
            "TELECRM_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(Path(__file__).parent.parent),
        }
        output = str(DATA / "export")
        _run(env, "crm", "extract", "--output", output, "--domain", "accounts")
        contacts = ("crm", "extract", "--output", output, "--domain", "contacts")
        runs = [
            ("first (all new)", *_run(env, *contacts)),
            ("second (all unchanged)", *_run(env, *contacts)),
        ]
        pages = hubspot.requests.count(("GET", "/crm/v3/objects/contacts"))
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Contact))
    engine.dispose()
    table = Table(title=f"crm extract of {CONTACTS:,} contacts ({engine.dialect.name})")
    for column in ("run", "seconds", "contacts/s", "peak memory", "target", "result"):
        table.add_column(column)
    missed = False
    for name, seconds, peak, _output in runs:
        ok = seconds < TARGET_SECONDS and peak < TARGET_BYTES
        missed = missed or not ok
        table.add_row(
            name,
            f"{seconds:.1f}",
            f"{CONTACTS / seconds:,.0f}",
            f"{peak / 1024**2:,.0f} MiB",
            "< 60 s, < 1 GiB",
            "ok" if ok else "MISSED",
        )
    console.print(table)
    console.print(f"{stored:,} contacts stored; {pages:,} pages of 100 fetched in all")
    console.print(runs[0][3])
    if stored != CONTACTS or missed:
        raise SystemExit("bench crm_extract: target missed")
