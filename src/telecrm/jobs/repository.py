"""Every query of the jobs table. State changes are conditional writes: two processes
that start or finish the same job cannot both win. None of them commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telecrm.jobs.models import FINISHED_STATES, Job, JobState


def add_queued(
    session: Session,
    job_id: uuid.UUID,
    kind: str,
    arguments: dict[str, Any],
    trigger: str,
    parent_id: uuid.UUID | None,
    now: dt.datetime,
) -> None:
    """The job's row, queued, unless a row with its id exists (a redelivered task's)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "id": job_id,
        "kind": kind,
        "arguments": arguments,
        "state": JobState.QUEUED,
        "trigger": trigger,
        "parent_id": parent_id,
        "created_at": now,
        "done": 0,
        "attempts": 0,
    }
    session.execute(insert(Job).values(**values).on_conflict_do_nothing(index_elements=["id"]))


def get(session: Session, job_id: uuid.UUID) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


def listing(
    session: Session,
    state: JobState | None,
    kind: str | None,
    parent_id: uuid.UUID | None,
    limit: int,
) -> Sequence[Job]:
    query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
    if state is not None:
        query = query.where(Job.state == state)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if parent_id is not None:
        query = query.where(Job.parent_id == parent_id)
    return session.scalars(query).all()


def _changed(session: Session, statement: Any) -> bool:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def start(session: Session, job_id: uuid.UUID, worker: str, now: dt.datetime) -> bool:
    """Queued (or running in a process that died: a redelivery) -> running. False when
    the job has finished already: the message was redelivered after the job's work
    was committed, and there is nothing left to do."""
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .values(
            state=JobState.RUNNING,
            worker=worker,
            started_at=now,
            attempts=Job.attempts + 1,
            error=None,
        ),
    )


def set_progress(session: Session, job_id: uuid.UUID, done: int, total: int | None) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(done=done, total=total)
    )


def advance(session: Session, job_id: uuid.UUID, now: dt.datetime) -> None:
    """One more part of a fanned-out job done; the job succeeds with its last part."""
    session.execute(
        update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING).values(done=Job.done + 1)
    )
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.done >= Job.total)
        .values(state=JobState.SUCCEEDED, finished_at=now)
    )


def finish(
    session: Session,
    job_id: uuid.UUID,
    state: JobState,
    now: dt.datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Running -> succeeded or failed (once)."""
    assert state in FINISHED_STATES
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(state=state, finished_at=now, result=result, error=error),
    )


def keep_running(session: Session, job_id: uuid.UUID, total: int, result: dict[str, Any]) -> None:
    """A job whose parts run as jobs of their own: running until the last one is done."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(total=total, result=result)
    )


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {getattr(state, "value", state): count for state, count in rows}


def fail_queued(session: Session, job_id: uuid.UUID, now: dt.datetime, error: str) -> None:
    """A job that never reached the broker."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.FAILED, finished_at=now, error=error)
    )


def part_results(session: Session, parent_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Job.result).where(Job.parent_id == parent_id, Job.state == JobState.SUCCEEDED)
    ).all()
    return [row for row in rows if row]


def delete_finished_before(session: Session, cutoff: dt.datetime) -> int:
    """The jobs that ended before ``cutoff``, with their parts; how many went."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Job).where(Job.state.in_(FINISHED_STATES), Job.finished_at < cutoff)
    )
    return result.rowcount
