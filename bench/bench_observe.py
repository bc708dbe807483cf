"""What a scrape of ``/metrics`` costs the database, and what the Redis cache saves on
the month's reconciliation, on a month of 1,000,000 rated CDRs (200 contracts) in
PostgreSQL (the data of ``bench_invoices``, loaded the same way).

- scrape: ``observability.metrics.scrape`` (the three GROUP BY statements of
  ``cdrs/figures`` and the process's own metrics), best of 3;
- reconcile: uncached, then with ``TELECRM_REDIS_URL`` (the real Redis on 127.0.0.1,
  keys under a prefix of this run, deleted after): the first call computes and stores,
  the next ones read (best of 5); every answer must equal the uncached one.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

import redis
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from sqlalchemy.engine import make_url

from bench.bench_invoices import (
    CDRS,
    CONTRACTS,
    MONTH,
    POSTGRES,
    TIMEZONE,
    YEAR,
    _admin,
    _load_postgres,
    _reference_data,
)
from telecrm import migrations
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.db import make_engine, session_scope
from telecrm.observability.metrics import scrape
from telecrm.reconciliation.service import reconcile

REDIS = os.environ.get("TELECRM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_DB = "telecrm_bench_observe"
console = Console()


def _best(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    timings, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        timings.append(time.perf_counter() - started)
    return min(timings), answer


def main() -> None:
    url = make_url(Settings.model_validate({"database_url": POSTGRES}).database_url)
    try:
        _admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
    except Exception as exc:  # no server here
        console.print(f"  PostgreSQL at {url.host}:{url.port} unavailable ({type(exc).__name__})")
        return
    bench_url = url.set(database=BENCH_DB).render_as_string(hide_password=False)
    engine = make_engine(bench_url)
    prefix = f"telecrm-bench-{uuid.uuid4().hex[:8]}"
    plain = Settings(_env_file=None, database_url=bench_url, timezone=TIMEZONE)  # type: ignore[call-arg]
    cached = plain.model_copy(update={"redis_url": REDIS, "cache_prefix": prefix})
    try:
        migrations.upgrade(engine)
        _reference_data(engine)
        started = time.perf_counter()
        _load_postgres(engine, billing_month(YEAR, MONTH, plain.tz))
        console.print(
            f"  PostgreSQL: {CDRS:,} rated CDRs, {CONTRACTS} contracts loaded in "
            f"{time.perf_counter() - started:.1f} s; load {os.getloadavg()[0]:.1f}"
        )
        with session_scope(engine, write=False) as session:
            seconds, text = _best(3, lambda: scrape(session, plain))
        rated = next(
            family.samples[0].value
            for family in text_string_to_metric_families(text.decode())  # type: ignore[attr-defined]
            if family.name == "telecrm_cdrs_rated"
        )
        assert rated == CDRS, rated
        console.print(f"[bold]scrape of /metrics: {seconds:.3f} s[/bold] (best of 3)")

        with session_scope(engine, write=False) as session:
            uncached, expected = _best(1, lambda: reconcile(session, YEAR, MONTH, plain))
            first, answer = _best(1, lambda: reconcile(session, YEAR, MONTH, cached))
            hit, again = _best(5, lambda: reconcile(session, YEAR, MONTH, cached))
        assert answer == expected and again == expected, "the cached answer differs"
        console.print(
            f"[bold]reconcile {YEAR}-{MONTH:02d}: {uncached:.2f} s uncached; with Redis "
            f"{first:.2f} s the first time (computed, stored), {hit * 1000:.1f} ms then[/bold] "
            f"(best of 5; {uncached / hit:,.0f}x); load {os.getloadavg()[0]:.1f}"
        )
    finally:
        engine.dispose()
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        _admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
