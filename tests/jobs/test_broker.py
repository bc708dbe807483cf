"""Jobs through a real RabbitMQ to a real ``telecrm worker`` (Celery) process, on a queue
of this test run's own; and the chaos runs: a worker killed with SIGKILL mid-rating and
mid-sync, its message delivered again, the outcome that of an undisturbed run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from kombu import Connection
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync.models import SyncLog
from telecrm.cdrs.models import Cdr
from telecrm.config import get_settings
from telecrm.jobs import service
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.models import FINISHED_STATES, JobState
from telecrm.jobs.schemas import JobRead
from tests import factories
from tests.cdrs.crm_sync.helpers import valid_cdrs
from tests.crm.fake_hubspot import FakeHubSpot
from tests.jobs.conftest import ratings
from tests.jobs.test_tasks import forget_ratings, process_billing

TELECRM = Path(sys.executable).parent / "telecrm"
BROKER_ENV = "TELECRM_TEST_BROKER_URL"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
WAIT_SECONDS = 60
INTERVAL_JOBS = {
    "telecrm.drain_push",
    "telecrm.fetch_sources",
    "telecrm.validate",
    "telecrm.rate_pending",
    "telecrm.sync_calls",
}


class GatedHubSpot(FakeHubSpot):
    """A CRM whose requests wait while ``gate`` is closed; ``waiting`` counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = 0

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        self.waiting += 1
        self.gate.wait(timeout=WAIT_SECONDS)
        self.waiting -= 1
        return super().handle(method, path, query, body)


@pytest.fixture(scope="module")
def broker_url() -> str:
    url = os.environ.get(BROKER_ENV, DEFAULT_BROKER)
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 5672), timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            raise  # CI starts RabbitMQ (.ci/run): not answering is a failure there
        pytest.skip(f"no broker answering at {parts.hostname}:{parts.port}")
    return url


@pytest.fixture(scope="module")
def crm() -> Iterator[GatedHubSpot]:
    with GatedHubSpot() as server:
        yield server


@pytest.fixture(scope="module")
def worker(
    broker_url: str, database_url: str, crm: GatedHubSpot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A ``telecrm worker`` (Celery, one process taking tasks) on a queue of its own."""
    queue = f"telecrm-test-{uuid.uuid4().hex[:12]}"
    environment = {
        **os.environ,
        "TELECRM_DATABASE_URL": database_url,
        "TELECRM_BROKER_URL": broker_url,
        "TELECRM_JOBS_QUEUE": queue,
        "TELECRM_TIMEZONE": "UTC",
        "TELECRM_HUBSPOT_TOKEN": crm.token,
        "TELECRM_HUBSPOT_BASE_URL": crm.url,
        "TELECRM_HUBSPOT_BACKOFF_SECONDS": "0",
        "TELECRM_LOG_LEVEL": "INFO",
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(TELECRM), "worker", "--concurrency", "1"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield {"queue": queue, "broker_url": broker_url, "log": str(log)}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with Connection(broker_url) as connection:
            connection.default_channel.queue_delete(queue)


@pytest.fixture()
def broker(committed_db: Engine, worker: dict[str, str]) -> Dispatcher:
    """Jobs sent to the worker through the broker."""
    get_settings.cache_clear()
    settings = get_settings().model_copy(
        update={"broker_url": worker["broker_url"], "jobs_queue": worker["queue"]}
    )
    return Dispatcher(settings, committed_db)


@pytest.fixture()
def in_process(committed_db: Engine) -> Dispatcher:
    get_settings.cache_clear()
    return Dispatcher(get_settings().model_copy(update={"broker_url": None}), committed_db)


def read(engine: Engine, job_id: uuid.UUID) -> JobRead:
    with Session(engine) as session:
        return service.get_job(session, job_id)


def wait_until(condition: Any, what: str, log: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS} s\n{Path(log).read_text()[-4000:]}")


def finished(engine: Engine, job_id: uuid.UUID, log: str) -> JobRead:
    return wait_until(  # type: ignore[no-any-return]
        lambda: (job := read(engine, job_id)).state in FINISHED_STATES and job,
        f"job {job_id} finished",
        log,
    )


def kill_the_process_running(engine: Engine, kind: str, log: str) -> int:
    """SIGKILL the worker process running the job of ``kind`` (its row names it)."""

    def running() -> JobRead | None:
        with Session(engine) as session:
            jobs = service.list_jobs(session, JobState.RUNNING, kind)
        return jobs[0] if jobs and jobs[0].worker else None

    job = wait_until(running, f"a {kind} job running", log)
    host, _, pid = job.worker.rpartition(":")
    assert host == socket.gethostname() and int(pid) != os.getpid()
    os.kill(int(pid), signal.SIGKILL)
    return int(pid)


def test_rating_through_the_broker_equals_the_run_in_process(
    committed_db: Engine,
    broker: Dispatcher,
    in_process: Dispatcher,
    days_of_calls: int,
    worker: dict[str, str],
) -> None:
    expected = process_billing(committed_db, in_process)
    forget_ratings(committed_db)

    job_id = broker("rate_days", {"first": "2025-11-03", "last": "2025-11-05"}, trigger="test")

    job = finished(committed_db, job_id, worker["log"])
    assert job.state is JobState.SUCCEEDED, job.error
    assert (job.done, job.total) == (3, 3)
    assert ratings(committed_db) == expected and len(expected) == days_of_calls
    with Session(committed_db) as session:
        parts = service.list_jobs(session, parent_id=job_id)
    # run by the worker, not here
    assert {part.worker for part in parts} != {f"{socket.gethostname()}:{os.getpid()}"}
    assert {part.state for part in parts} == {JobState.SUCCEEDED}


def test_a_worker_killed_mid_rating_leaves_the_ratings_of_an_undisturbed_run(
    committed_db: Engine,
    is_postgres: bool,
    broker: Dispatcher,
    in_process: Dispatcher,
    days_of_calls: int,
    worker: dict[str, str],
) -> None:
    if not is_postgres:
        pytest.skip("holds the worker mid-write with a PostgreSQL row lock")
    expected = process_billing(committed_db, in_process)
    forget_ratings(committed_db)
    with Session(committed_db) as session:
        first_call = session.scalar(
            select(func.min(Cdr.id)).where(
                Cdr.start_time >= dt.datetime(2025, 11, 4, tzinfo=dt.UTC)
            )
        )

    # A rating of one of the day's calls, not committed: the worker's write of the
    # day's ratings waits on it, mid-rating, its transaction open, when it is killed.
    with committed_db.connect() as blocker:
        blocker.execute(
            text(
                "INSERT INTO cdr_ratings (cdr_id, start_time, rating_status, rated_at) "
                "SELECT id, start_time, 'pending', now() FROM cdrs WHERE id = :id"
            ),
            {"id": first_call},
        )
        job_id = broker("rate_day", {"day": "2025-11-04"}, trigger="test")
        wait_until(
            lambda: blocker.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar(),
            "the worker waiting to write its ratings",
            worker["log"],
        )
        killed = kill_the_process_running(committed_db, "rate_day", worker["log"])
        blocker.rollback()

    job = finished(committed_db, job_id, worker["log"])
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.attempts == 2 and job.worker != f"{socket.gethostname()}:{killed}"
    broker_done = finished(
        committed_db,
        broker("rate_days", {"first": "2025-11-03", "last": "2025-11-05"}, trigger="test"),
        worker["log"],
    )
    assert broker_done.state is JobState.SUCCEEDED
    assert ratings(committed_db) == expected


def test_a_worker_killed_mid_sync_leaves_the_crm_calls_of_an_undisturbed_run(
    committed_db: Engine, broker: Dispatcher, crm: GatedHubSpot, worker: dict[str, str]
) -> None:
    with Session(committed_db) as session:
        cdrs = valid_cdrs(session, 250, factories.contract(session, factories.rate_group(session)))
        keys = {cdr.unique_key for cdr in cdrs}
        session.commit()

    crm.gate.clear()  # the first batch's request waits at the CRM
    try:
        job_id = broker("sync_calls", {}, trigger="test")
        wait_until(lambda: crm.waiting, "a batch at the CRM", worker["log"])
        kill_the_process_running(committed_db, "sync_batch", worker["log"])
    finally:
        crm.gate.set()  # the killed run's request goes through: the CRM took that batch

    job = finished(committed_db, job_id, worker["log"])
    assert job.state is JobState.SUCCEEDED, job.error
    assert (job.done, job.total) == (3, 3)
    with Session(committed_db) as session:
        parts = service.list_jobs(session, parent_id=job_id)
        synced = session.scalar(select(func.count()).where(Cdr.sync_status == "synced"))
        logged = session.scalar(
            select(func.count(func.distinct(SyncLog.cdr_id))).where(SyncLog.status == "synced")
        )
        entries = session.scalar(select(func.count()).where(SyncLog.status == "synced"))
    assert sorted(part.attempts for part in parts) == [1, 1, 2]  # one redelivered
    # each call once in the CRM (upserted by its key), each CDR synced and logged once
    calls = list(crm.objects["calls"].values())
    assert len(calls) == 250
    assert {call["properties"]["telecrm_cdr_key"] for call in calls} == keys
    assert synced == logged == entries == 250


def test_beat_sends_the_schedule_to_the_queue(
    broker_url: str, database_url: str, tmp_path: Path
) -> None:
    queue = f"telecrm-test-beat-{uuid.uuid4().hex[:12]}"
    environment = {
        **os.environ,
        "TELECRM_DATABASE_URL": database_url,
        "TELECRM_BROKER_URL": broker_url,
        "TELECRM_JOBS_QUEUE": queue,
        "TELECRM_WORKER_INTERVAL_SECONDS": "1",
    }
    log = tmp_path / "beat.log"
    with log.open("w") as output:
        beat = subprocess.Popen(
            [str(TELECRM), "beat", "--schedule-file", str(tmp_path / "schedule")],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    sent: set[str] = set()
    try:
        with Connection(broker_url) as connection:
            channel = connection.default_channel
            channel.queue_declare(queue, durable=True, auto_delete=False)

            def interval_jobs_sent() -> bool:
                while (message := channel.basic_get(queue, no_ack=True)) is not None:
                    sent.add(message.headers["task"])
                return sent >= INTERVAL_JOBS

            wait_until(interval_jobs_sent, "beat's first jobs", str(log))
            channel.queue_delete(queue)
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(timeout=30)
    # the hourly and monthly ones are not due yet
    assert sent == INTERVAL_JOBS
