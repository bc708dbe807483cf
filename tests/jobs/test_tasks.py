"""The jobs in process (no broker): the same task functions a Celery worker runs, their
rows, progress and results, and what makes them safe to run twice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import CdrRating
from telecrm.cdrs.rating_run import repository as rating_repository
from telecrm.cdrs.rating_run import service as rating_run
from telecrm.cdrs.window import day_window
from telecrm.db import session_scope
from telecrm.jobs import service
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.models import Job, JobState
from telecrm.jobs.schemas import JobRead
from tests.concurrency import at_once, meet_after
from tests.conftest import CliResult
from tests.jobs.conftest import DAYS, ratings


def job(engine: Engine, job_id: uuid.UUID) -> JobRead:
    with Session(engine) as session:
        return service.get_job(session, job_id)


def process_billing(engine: Engine, dispatcher: Dispatcher) -> list[tuple[object, ...]]:
    """The ratings of ``DAYS`` as ``telecrm cdr process-billing`` makes them."""
    window = day_window(DAYS[0], DAYS[-1], dispatcher.settings.timezone)
    with session_scope(engine) as session:
        rating_run.process_billing(session, *window, False, dispatcher.settings)
    return ratings(engine)


def forget_ratings(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.query(CdrRating).delete()


def test_rating_days_as_a_job_rates_as_process_billing_does_with_progress(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    expected = process_billing(committed_db, dispatcher)
    forget_ratings(committed_db)

    job_id = dispatcher("rate_days", {"first": "2025-11-03", "last": "2025-11-05"}, trigger="test")

    assert ratings(committed_db) == expected and len(expected) == days_of_calls
    done = job(committed_db, job_id)
    assert (done.state, done.done, done.total) == (JobState.SUCCEEDED, 3, 3)
    assert done.result is not None and done.result["processed"] == days_of_calls
    assert done.finished_at is not None and done.worker is not None
    with Session(committed_db) as session:
        parts = service.list_jobs(session, parent_id=job_id)
    assert sorted(part.arguments["day"] for part in parts) == [d.isoformat() for d in DAYS]
    assert {part.state for part in parts} == {JobState.SUCCEEDED}


def test_a_day_rated_in_shards_equals_the_day_rated_whole(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    expected = process_billing(committed_db, dispatcher)
    forget_ratings(committed_db)

    job_id = dispatcher(
        "rate_days", {"first": "2025-11-03", "last": "2025-11-05", "shards": 3}, trigger="test"
    )

    assert ratings(committed_db) == expected
    assert job(committed_db, job_id).total == 9


def test_a_job_run_again_does_nothing_twice(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    job_id = dispatcher("rate_day", {"day": "2025-11-04"}, trigger="test")
    rated = ratings(committed_db)
    first = job(committed_db, job_id)

    # the message of a finished job delivered again: nothing to do
    assert dispatcher.run("rate_day", job_id, {"day": "2025-11-04"}, "test", None) is None
    # the same work as a new job: every call found rated, nothing written
    again = dispatcher("rate_day", {"day": "2025-11-04", "rerate": True}, trigger="test")

    assert ratings(committed_db) == rated and len(rated) == 12
    assert job(committed_db, job_id) == first  # attempts, times: untouched
    assert job(committed_db, again).result == {
        "day": "2025-11-04",
        "processed": 12,
        "changed": 0,
        "rated": first.result["rated"] if first.result else None,
        "unrated": first.result["unrated"] if first.result else None,
        "invalid": 0,
    }


def test_a_job_killed_mid_way_runs_again_from_running(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    # a worker started the job and died before it committed its work
    job_id = uuid.uuid4()
    with Session(committed_db) as session, session.begin():
        session.add(
            Job(
                id=job_id,
                kind="rate_day",
                arguments={"day": "2025-11-05"},
                trigger="beat",
                state=JobState.RUNNING,
                worker="elsewhere:1",
                attempts=1,
            )
        )

    dispatcher.run("rate_day", job_id, {"day": "2025-11-05"}, "beat", None)

    done = job(committed_db, job_id)
    assert (done.state, done.attempts) == (JobState.SUCCEEDED, 2)
    assert done.result is not None and done.result["processed"] == 12


def test_two_jobs_rating_the_same_day_at_once_rate_each_call_once(
    committed_db: Engine,
    dispatcher: Dispatcher,
    days_of_calls: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # both read the day's calls before either writes, where they can: on PostgreSQL the
    # day's advisory lock makes the second wait for the first to commit
    meet_after(monkeypatch, rating_repository, "ratable_cdrs", parties=2)

    def run() -> uuid.UUID:
        return dispatcher("rate_day", {"day": "2025-11-03"}, trigger="test")

    jobs = [job(committed_db, job_id) for job_id in at_once(run, run)]

    assert sorted(j.result["changed"] for j in jobs if j.result) == [0, 12]
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(CdrRating)) == 12


def test_a_failing_part_fails_its_job_and_the_other_parts_go_on(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    parent_id = uuid.uuid4()
    with Session(committed_db) as session, session.begin():
        session.add(Job(id=parent_id, kind="rate_days", arguments={}, trigger="test", total=2))
        session.flush()
        session.execute(
            Job.__table__.update().where(Job.id == parent_id).values(state=JobState.RUNNING)
        )

    bad = dispatcher(
        "rate_day", {"day": "2025-11-05", "shard": 3, "shards": 2}, trigger="t", parent_id=parent_id
    )
    good = dispatcher("rate_day", {"day": "2025-11-05"}, trigger="t", parent_id=parent_id)

    failed = job(committed_db, bad)
    assert failed.state is JobState.FAILED
    assert failed.error == "ValidationFailed: shard 3 is not between 0 and 1"
    assert job(committed_db, good).state is JobState.SUCCEEDED
    assert len(ratings(committed_db)) == 12
    parent = job(committed_db, parent_id)
    assert parent.state is JobState.FAILED
    assert parent.error == "rate_day: ValidationFailed: shard 3 is not between 0 and 1"


def test_a_failing_job_is_failed_with_its_error(dispatcher: Dispatcher) -> None:
    with pytest.raises(ValueError, match="month 13"):
        dispatcher("invoice_drafts", {"year": 2025, "month": 13}, trigger="test")
    with Session(dispatcher.engine) as session:
        (failed,) = service.list_jobs(session, kind="invoice_drafts")
    assert failed.state is JobState.FAILED and "month 13 is not between 1 and 12" in str(
        failed.error
    )


def test_unknown_kind_is_refused(dispatcher: Dispatcher) -> None:
    with pytest.raises(Exception, match="unknown job kind 'nap'"):
        dispatcher("nap", {}, trigger="test")


def test_jobs_commands_show_state_and_progress(
    cli: Callable[..., CliResult], days_of_calls: int
) -> None:
    result = cli("jobs", "rate", "--from", "2025-11-03", "--to", "2025-11-05")
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout and "3/3" in result.stdout

    listed = cli("jobs", "list")
    assert listed.exit_code == 0, listed.output
    assert "4 jobs" in listed.stdout
    assert listed.stdout.count("rate_day ") == 3 and "rate_days" in listed.stdout

    parent = next(line for line in listed.stdout.splitlines() if "rate_days" in line)
    job_id = parent.split("│")[1].strip()
    shown = cli("jobs", "show", job_id)
    assert shown.exit_code == 0, shown.output
    assert "result: processed" in shown.stdout and str(days_of_calls) in shown.stdout

    assert cli("jobs", "show", "nope").exit_code == 1
    missing = cli("jobs", "show", str(uuid.uuid4()))
    assert missing.exit_code == 1 and "not found" in missing.stderr


def test_the_schedule_lists_every_periodic_job_on_the_queue(dispatcher: Dispatcher) -> None:
    from telecrm.jobs.schedule import beat_schedule

    schedule = beat_schedule(dispatcher.settings)
    assert {entry["task"] for entry in schedule.values()} == {
        "telecrm.drain_push",
        "telecrm.fetch_sources",
        "telecrm.validate",
        "telecrm.rate_pending",
        "telecrm.sync_calls",
        "telecrm.crm_extract",
        "telecrm.invoice_drafts",
        "telecrm.ensure_partitions",
        "telecrm.apply_retention",
        "telecrm.prune_jobs",
    }
    drafts = schedule["draft last month's invoices"]["schedule"]
    assert drafts.day_of_month == {1} and drafts.hour == {2}
    assert {entry["options"]["queue"] for entry in schedule.values()} == {"telecrm"}


def test_rating_pending_days_rates_every_new_call(
    committed_db: Engine, dispatcher: Dispatcher, days_of_calls: int
) -> None:
    job_id = dispatcher("rate_pending", {}, trigger="test")
    assert len(ratings(committed_db)) == days_of_calls
    assert job(committed_db, job_id).total == len(DAYS)
    # nothing pending: nothing to split
    again = dispatcher("rate_pending", {}, trigger="test")
    assert job(committed_db, again).result == {"days": 0}
    assert job(committed_db, again).state is JobState.SUCCEEDED


def test_old_finished_jobs_are_forgotten(committed_db: Engine, dispatcher: Dispatcher) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    with Session(committed_db) as session, session.begin():
        session.add(
            Job(
                id=old,
                kind="validate",
                arguments={},
                trigger="t",
                state=JobState.SUCCEEDED,
                finished_at=long_ago,
            )
        )
        session.add(
            Job(
                id=recent,
                kind="validate",
                arguments={},
                trigger="t",
                state=JobState.FAILED,
                finished_at=long_ago + dt.timedelta(days=2),
            )
        )
        session.add(Job(kind="validate", arguments={}, trigger="t", state=JobState.RUNNING))

    pruned = dispatcher("prune_jobs", {}, trigger="test")

    assert job(committed_db, pruned).result == {"deleted": 1}
    with Session(committed_db) as session:
        assert session.get(Job, old) is None and session.get(Job, recent) is not None
        assert session.scalar(select(func.count()).select_from(Job)) == 3
