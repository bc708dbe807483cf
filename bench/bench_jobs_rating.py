"""A month of 1,000,000 CDRs rated as jobs (issue 12): ``rate_days`` split into one
``rate_day`` job per day, sent through RabbitMQ to ``telecrm worker`` with 1 worker
process, then with 2, on PostgreSQL; and in process (no broker) for the reference.
The ratings of every run must equal the in-process run's, row for row (compared as
an md5 of every rating in ``cdr_id`` order, ``rated_at`` left out).

The CDRs and reference data are those of ``bench_process_billing``, imported (not timed)
into a scratch database made and dropped for the run. A run's time is its jobs' own:
from the ``rate_days`` job's creation to the last part's end (``jobs`` table)."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid

import psycopg
from rich.console import Console

from bench import cdr_data
from bench.bench_process_billing import POSTGRES, TELECRM, _reference_data, _run

# TELECRM_BENCH_JOBS_ROWS runs it smaller (a busy machine, a quick check)
ROWS = int(os.environ.get("TELECRM_BENCH_JOBS_ROWS", "1000000"))
BROKER = os.environ.get("TELECRM_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
console = Console()

RATINGS_DIGEST = (
    "SELECT count(*), md5(string_agg(concat_ws('|', cdr_id, start_time, rating_status, "
    "rating_reason, contract_id, rate_id, matched_prefix, billable_seconds, cost), ',' "
    "ORDER BY cdr_id)) FROM cdr_ratings"
)
RUN_SECONDS = (
    "SELECT extract(epoch FROM max(finished_at) - min(created_at)), count(*), "
    "bool_and(state = 'succeeded') FROM jobs WHERE id = %(id)s OR parent_id = %(id)s"
)


def _rate_month(env: dict[str, str], url: str) -> tuple[float, tuple[int, str]]:
    """Rate November as jobs; the jobs' time and the ratings' digest. The ratings are
    removed afterwards, for the next run."""
    _run(env, "jobs", "rate", "--from", "2025-11-01", "--to", "2025-11-30", "--wait")
    with psycopg.connect(url, autocommit=True) as connection:
        (parent,) = connection.execute(
            "SELECT id FROM jobs WHERE kind = 'rate_days' ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        seconds, jobs, succeeded = connection.execute(RUN_SECONDS, {"id": parent}).fetchone()
        assert succeeded and jobs == 31, (jobs, succeeded)
        digest = connection.execute(RATINGS_DIGEST).fetchone()
        connection.execute("TRUNCATE cdr_ratings")
        connection.execute("VACUUM ANALYZE cdr_ratings")
        connection.execute("CHECKPOINT")
    return float(seconds), digest


def _start_worker(env: dict[str, str], processes: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*TELECRM, "worker", "--concurrency", str(processes)],
        env={**env, "TELECRM_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # ready once it has done a job: rating a day without calls
    _run(env, "jobs", "rate", "--from", "2020-01-01", "--wait")
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    path = cdr_data.master_csv(ROWS)
    name = f"telecrm_bench_{uuid.uuid4().hex[:8]}"
    queue = f"telecrm-bench-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    env = {
        **os.environ,
        "TELECRM_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "TELECRM_TIMEZONE": "Asia/Jakarta",
        "TELECRM_LOG_LEVEL": "WARNING",
    }
    env.pop("TELECRM_BROKER_URL", None)
    broker_env = {**env, "TELECRM_BROKER_URL": BROKER, "TELECRM_JOBS_QUEUE": queue}
    try:
        _run(env, "db", "upgrade")
        _reference_data(url)
        loaded = _run(env, "cdr", "import", str(path), "--format", "asterisk-csv")
        console.print(f"setup: {ROWS:,} CDRs imported in {loaded:.1f} s (not part of the figure)")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE cdrs")
            connection.execute("CHECKPOINT")

        in_process, reference = _rate_month(env, url)
        console.print(
            f"in process (no broker): {in_process:.1f} s, {reference[0]:,} ratings "
            f"(load {os.getloadavg()[0]:.1f})"
        )
        figures = {}
        for processes in (1, 2):
            worker = _start_worker(broker_env, processes)
            try:
                seconds, digest = _rate_month(broker_env, url)
            finally:
                _stop(worker)
            figures[processes] = seconds
            same = "equal to" if digest == reference else "DIFFERENT FROM"
            console.print(
                f"RabbitMQ, {processes} worker process(es): {seconds:.1f} s "
                f"({ROWS / seconds:,.0f} CDRs/s), ratings {same} the in-process run "
                f"(load {os.getloadavg()[0]:.1f})"
            )
            assert digest == reference
        console.print(f"speed-up with 2 processes: {figures[1] / figures[2]:.2f}x")
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            from kombu import Connection

            with Connection(BROKER) as connection:
                connection.default_channel.queue_delete(queue)
        except Exception as exc:  # the queue is left; it holds nothing
            console.print(f"queue {queue} not deleted: {exc}")
