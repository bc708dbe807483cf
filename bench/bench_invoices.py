"""``telecrm invoices generate`` for 200 contracts over a month of 1,000,000 rated
CDRs (issue 4: under 5 s on PostgreSQL; SQLite measured too).

The rated CDRs are loaded straight into a fresh database (COPY on PostgreSQL,
batched inserts on SQLite) with what rating leaves on them: contract, rate,
matched prefix, billable seconds and an exact cost. The figure is one call of the
generation service, commit included, as the command runs it; then the same
again (the drafts are generated again in place), and the totals are checked
against an independent exact sum of the costs. Generation writes no call: the
calls are linked when an invoice is sent, so sending every draft (one transaction
each, as the API does) is timed after it, and must leave every call linked.

The month's reconciliation (``telecrm billing reconcile``, revenue assurance) is
timed on the same data, with the drafts and again once they are sent: it must take
no more than twice the generation's time, and tie out.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from telecrm import migrations
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING
from telecrm.db import make_engine, session_scope
from telecrm.invoices.arithmetic import invoice_totals
from telecrm.invoices.models import Invoice
from telecrm.invoices.service import Transition, generate, transition
from telecrm.rates.models import Rate, RateGroup
from telecrm.rating.types import RateType
from telecrm.reconciliation.service import reconcile

CDRS = 1_000_000
LATE_CDRS = 10_000
CONTRACTS = 200
GROUPS = 4
PREFIXES_PER_GROUP = 1_250
TARGET_SECONDS = 5.0
RECONCILE_RATIO = 2.0  # the reconciliation takes at most twice the generation's time
YEAR, MONTH = 2025, 11
TIMEZONE = "Asia/Jakarta"
DATA = Path(__file__).parent / "data"
POSTGRES = os.environ.get(
    "TELECRM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CDR_COLUMNS = (
    "id, unique_key, accountcode, src, dst, start_time, duration, billsec, disposition, "
    "status, sync_status"
)
RATING_COLUMNS = (
    "cdr_id, start_time, rating_status, contract_id, cleaned_number, matched_prefix, rate_id, "
    "billable_seconds, rated_at, cost"
)
CDR_WIDTH = len(CDR_COLUMNS.split(","))
BENCH_DB = "telecrm_bench_invoices"
console = Console()


def _reference_data(engine: Engine) -> None:
    rng = random.Random(4)
    with engine.begin() as connection:
        connection.execute(
            insert(RateGroup), [{"id": g, "name": f"bench group {g}"} for g in range(1, GROUPS + 1)]
        )
        connection.execute(
            insert(Rate),
            [
                {
                    "id": (g - 1) * PREFIXES_PER_GROUP + p + 1,
                    "rate_group_id": g,
                    "rate_prefix": "62",
                    "area_prefix": str(800 + p),
                    "description": f"Destination {p % 300}",
                    "rate_type": RateType.PER_MINUTE,
                    "billing_rate": Decimal(rng.randint(500, 5000)),
                    "billing_cycle": 60,
                    "connect_fee": Decimal(0),
                }
                for g in range(1, GROUPS + 1)
                for p in range(PREFIXES_PER_GROUP)
            ],
        )
        connection.execute(
            insert(Contract),
            [
                {
                    "id": c,
                    "company_name": f"PT Bench {c}",
                    "accountcode": f"BENCH{c:04d}",
                    "rate_group_id": (c % GROUPS) + 1,
                    "currency": "IDR",
                    "tax_rate": Decimal(11),
                    "payment_terms_days": 30,
                    "status": "active",
                }
                for c in range(1, CONTRACTS + 1)
            ],
        )


def _cdrs(period: tuple[dt.datetime, dt.datetime]) -> Iterator[tuple[object, ...]]:
    """Rated calls spread over the month: the ``cdrs`` row (``CDR_COLUMNS``) then its
    rating's (``RATING_COLUMNS``), the cost last, in micro-units."""
    rng = random.Random(2025)
    start, end = period
    span = int((end - start).total_seconds())
    for index in range(CDRS):
        contract = rng.randint(1, CONTRACTS)
        group = (contract % GROUPS) + 1
        prefix = rng.randrange(PREFIXES_PER_GROUP)
        billsec = rng.choice((0, 0, 5, 33, 61, 95, 180, 300, 610))
        billable = 0 if billsec == 0 else -(-billsec // 60) * 60
        cost_micros = billable * rng.randint(500_000_000, 5_000_000_000) // 60 // 1000
        call_start = start + dt.timedelta(seconds=rng.randrange(span))
        yield (
            index + 1,
            f"bench-{index:08d}",
            f"BENCH{contract:04d}",
            "1001",
            f"0{800 + prefix}{index:07d}",
            call_start,
            billsec + 3,
            billsec,
            "ANSWERED" if billsec else "NO ANSWER",
            "valid",
            "pending",
            index + 1,
            call_start,
            "rated",
            contract,
            f"62{800 + prefix}{index:07d}",
            f"62{800 + prefix}",
            (group - 1) * PREFIXES_PER_GROUP + prefix + 1,
            billable,
            start,
            cost_micros,
        )


def _load_postgres(engine: Engine, period: tuple[dt.datetime, dt.datetime]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        rows = list(_cdrs(period))
        with cursor.copy(f"COPY cdrs ({CDR_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row[:CDR_WIDTH])
        with cursor.copy(f"COPY cdr_ratings ({RATING_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                micros = row[-1]
                copy.write_row((*row[CDR_WIDTH:-1], Decimal(micros).scaleb(-6)))  # type: ignore[operator]
        cursor.execute("SELECT setval('cdrs_id_seq', %s)", (len(rows),))
        raw.commit()
        cursor.execute("ANALYZE cdrs")
        cursor.execute("ANALYZE cdr_ratings")
        raw.commit()
    finally:
        raw.close()


def _load_sqlite(path: Path, period: tuple[dt.datetime, dt.datetime]) -> None:
    # The stored forms of UTCDateTime (naive UTC text) and Money (scaled integer).
    connection = sqlite3.connect(path)
    rows = [
        tuple(
            value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, dt.datetime) else value
            for value in row
        )
        for row in _cdrs(period)
    ]
    marks = ", ".join("?" * CDR_WIDTH)
    connection.executemany(
        f"INSERT INTO cdrs ({CDR_COLUMNS}) VALUES ({marks})", [row[:CDR_WIDTH] for row in rows]
    )
    marks = ", ".join("?" * (len(rows[0]) - CDR_WIDTH))
    connection.executemany(
        f"INSERT INTO cdr_ratings ({RATING_COLUMNS}) VALUES ({marks})",
        [row[CDR_WIDTH:] for row in rows],
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def _expected_totals(engine: Engine, period: tuple[dt.datetime, dt.datetime]) -> dict[int, Decimal]:
    """Per contract, the invoice total from an exact sum of the costs done here."""
    sums: dict[int, Decimal] = defaultdict(Decimal)
    with engine.connect() as connection:
        rows = connection.execute(
            select(CdrRating.contract_id, CdrRating.cost).where(
                CdrRating.start_time >= period[0], CdrRating.start_time < period[1]
            )
        )
        for contract_id, cost in rows:
            sums[contract_id] += cost
    return {
        contract_id: invoice_totals(total, Decimal(11), "IDR").total
        for contract_id, total in sums.items()
    }


def _measure(label: str, engine: Engine, url: str) -> float:
    settings = Settings(_env_file=None, database_url=url, timezone=TIMEZONE)  # type: ignore[call-arg]
    period = billing_month(YEAR, MONTH, settings.tz)
    timings = []
    for run in ("first run", "again (drafts regenerated)"):
        started = time.perf_counter()
        with session_scope(engine) as session:
            summary = generate(session, YEAR, MONTH, settings)
        timings.append(time.perf_counter() - started)
        console.print(
            f"  {label}, {run}: {summary.created + summary.updated} invoices, "
            f"{summary.invoiced_calls:,} calls in {timings[-1]:.2f} s"
        )
    with engine.connect() as connection:
        linked = connection.scalar(select(func.count()).where(CdrRating.invoice_id.is_not(None)))
        draft_ids = connection.scalars(select(Invoice.id).order_by(Invoice.id)).all()
    assert linked == 0, f"generation linked {linked} calls"
    reconciled = [_reconcile(label, "with the drafts", engine, settings)]

    started = time.perf_counter()
    for invoice_id in draft_ids:
        with session_scope(engine) as session:
            transition(session, EVERYTHING, invoice_id, Transition.SEND)
    console.print(
        f"  {label}, sending the {len(draft_ids)} drafts (links the calls): "
        f"{time.perf_counter() - started:.2f} s"
    )
    with engine.connect() as connection:
        unlinked = connection.scalar(select(func.count()).where(CdrRating.invoice_id.is_(None)))
        totals = dict(connection.execute(select(Invoice.contract_id, Invoice.amount)).all())
    assert unlinked == 0, f"{unlinked} calls on no invoice once every invoice is sent"
    assert totals == _expected_totals(engine, period), "invoice totals differ from the costs"
    reconciled.append(_reconcile(label, "once they are sent", engine, settings))
    ratio = max(reconciled) / timings[0]
    verdict = "meets" if ratio <= RECONCILE_RATIO else "MISSES"
    console.print(
        f"[bold]  {label}: billing reconcile {max(reconciled):.2f} s = {ratio:.2f} x invoices "
        f"generate ({verdict} the {RECONCILE_RATIO:.0f} x target)[/bold]"
    )
    return timings[0]


def _reconcile(
    label: str, state: str, engine: Engine, settings: Settings, late: str | None = None
) -> float:
    """The month's reconciliation, timed; every call in one bucket, tied out, and the
    late calls, if any, all in the bucket ``late``."""
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = reconcile(session, YEAR, MONTH, settings)
    seconds = time.perf_counter() - started
    calls = CDRS + (LATE_CDRS if late else 0)
    assert result.calls == result.bucketed_calls == calls, (result.calls, result.bucketed_calls)
    assert result.ties_out, result.problems
    if late:
        in_bucket = sum(b.calls for a in result.contracts for b in a.buckets if b.bucket == late)
        assert in_bucket == LATE_CDRS, (late, in_bucket)
    console.print(f"  {label}, billing reconcile {state}: {seconds:.2f} s, ties out")
    return seconds


def _late_calls(engine: Engine, period: tuple[dt.datetime, dt.datetime]) -> dict[int, Decimal]:
    """``LATE_CDRS`` calls of the invoiced month, rated after its invoices were sent;
    their exact cost per contract."""
    rng = random.Random(11)
    start = period[0]
    calls, ratings = [], []
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for index in range(CDRS, CDRS + LATE_CDRS):
        contract = rng.randint(1, CONTRACTS)
        prefix = rng.randrange(PREFIXES_PER_GROUP)
        call_start = start + dt.timedelta(seconds=rng.randrange(86_400 * 28))
        cost = Decimal(rng.randint(1, 5_000_000_000)).scaleb(-6)
        sums[contract] += cost
        calls.append(
            {
                "id": index + 1,
                "unique_key": f"bench-{index:08d}",
                "accountcode": f"BENCH{contract:04d}",
                "src": "1001",
                "dst": f"0{800 + prefix}{index:07d}",
                "start_time": call_start,
                "duration": 63,
                "billsec": 60,
                "disposition": "ANSWERED",
                "status": "valid",
                "sync_status": "pending",
            }
        )
        ratings.append(
            {
                "cdr_id": index + 1,
                "start_time": call_start,
                "rating_status": "rated",
                "contract_id": contract,
                "cleaned_number": f"62{800 + prefix}{index:07d}",
                "matched_prefix": f"62{800 + prefix}",
                "rate_id": ((contract % GROUPS) * PREFIXES_PER_GROUP) + prefix + 1,
                "billable_seconds": 60,
                "rated_at": period[1],
                "cost": cost,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(Cdr), calls)
        connection.execute(insert(CdrRating), ratings)
    return sums


def _measure_late(label: str, engine: Engine, url: str) -> float:
    """Calls of November arrive after its invoices were sent: generating December
    puts them on December's drafts (a section of earlier periods), reading the
    ratings on no invoice only; sending those links them. November is reconciled at
    each step, its late calls in their bucket."""
    settings = Settings(_env_file=None, database_url=url, timezone=TIMEZONE)  # type: ignore[call-arg]
    period = billing_month(YEAR, MONTH, settings.tz)
    late = _late_calls(engine, period)
    _reconcile(label, "with late calls", engine, settings, "late")
    started = time.perf_counter()
    with session_scope(engine) as session:
        summary = generate(session, YEAR, MONTH + 1, settings)
    seconds = time.perf_counter() - started
    console.print(
        f"  {label}, generating {YEAR}-{MONTH + 1:02d} over the sent month and "
        f"{LATE_CDRS:,} late calls: {summary.late_calls_billed:,} late calls on "
        f"{len(summary.late_calls_invoice_numbers)} drafts in {seconds:.2f} s"
    )
    assert summary.late_calls_billed == LATE_CDRS
    assert summary.late_calls_amounts == {"IDR": sum(late.values())}
    _reconcile(label, "with them on December's drafts", engine, settings, "on_later_draft")
    with engine.connect() as connection:
        december = dict(
            connection.execute(
                select(Invoice.contract_id, Invoice.id).where(
                    Invoice.period_start == billing_month(YEAR, MONTH + 1, settings.tz)[0]
                )
            ).all()
        )
    for invoice_id in december.values():
        with session_scope(engine) as session:
            transition(session, EVERYTHING, invoice_id, Transition.SEND)
    with engine.connect() as connection:
        unlinked = connection.scalar(select(func.count()).where(CdrRating.invoice_id.is_(None)))
        totals = dict(
            connection.execute(
                select(Invoice.contract_id, Invoice.amount).where(Invoice.id.in_(december.values()))
            ).all()
        )
    assert unlinked == 0, f"{unlinked} calls on no invoice once every invoice is sent"
    expected = {c: invoice_totals(cost, Decimal(11), "IDR").total for c, cost in late.items()}
    assert totals == expected, "late calls' totals differ from their costs"
    _reconcile(label, "with them on December's invoices", engine, settings, "on_later_invoice")
    return seconds


def _admin(*statements: str) -> None:
    """Run ``statements`` on the PostgreSQL server's own database (outside a transaction)."""
    url = make_url(Settings.model_validate({"database_url": POSTGRES}).database_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        admin.dispose()


def _postgres() -> tuple[Engine, str] | None:
    url = make_url(Settings.model_validate({"database_url": POSTGRES}).database_url)
    try:
        _admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
    except Exception as exc:  # no server here: the SQLite figure still stands
        console.print(f"  PostgreSQL at {url.host}:{url.port} unavailable ({type(exc).__name__})")
        return None
    bench_url = url.set(database=BENCH_DB).render_as_string(hide_password=False)
    return make_engine(bench_url), bench_url


def main() -> None:
    DATA.mkdir(exist_ok=True)
    period = billing_month(YEAR, MONTH, Settings(_env_file=None, timezone=TIMEZONE).tz)  # type: ignore[call-arg]
    console.print(
        f"invoices generate: {CONTRACTS} contracts, {CDRS:,} rated CDRs in {YEAR}-{MONTH:02d}, "
        f"{GROUPS * PREFIXES_PER_GROUP:,} prefixes"
    )
    results: dict[str, float] = {}

    postgres = _postgres()
    if postgres is not None:
        engine, url = postgres
        migrations.upgrade(engine)
        _reference_data(engine)
        started = time.perf_counter()
        _load_postgres(engine, period)
        console.print(f"  PostgreSQL: loaded in {time.perf_counter() - started:.1f} s")
        try:
            results["PostgreSQL"] = _measure("PostgreSQL", engine, url)
            _measure_late("PostgreSQL", engine, url)
        finally:
            engine.dispose()
            _admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")

    database = DATA / "invoices.db"
    for leftover in DATA.glob("invoices.db*"):
        leftover.unlink()
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    _reference_data(engine)
    started = time.perf_counter()
    _load_sqlite(database, period)
    console.print(f"  SQLite: loaded in {time.perf_counter() - started:.1f} s")
    results["SQLite"] = _measure("SQLite", engine, url)
    _measure_late("SQLite", engine, url)
    engine.dispose()

    for name, seconds in results.items():
        verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
        target = f" ({verdict} the {TARGET_SECONDS:.0f} s target)" if name == "PostgreSQL" else ""
        console.print(f"[bold]invoices generate on {name}: {seconds:.2f} s[/bold]{target}")
