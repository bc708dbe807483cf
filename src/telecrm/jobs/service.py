"""Jobs as people see them: started from the API or the command line, read back with
their state, progress and what they did."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from numbers import Number
from typing import Any

from sqlalchemy.orm import Session

from telecrm.errors import JobNotFound, ValidationFailed
from telecrm.jobs import repository
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.models import Job, JobState
from telecrm.jobs.schemas import DraftsJobRequest, JobRead, RatingJobRequest

MAX_LISTED = 1000
# a rating job's days: a year, and one more for a leap year
MAX_RATING_DAYS = 366


def read_model(session: Session, job: Job) -> JobRead:
    """The job; a job split into parts shows the sum of its parts' results."""
    read = JobRead.model_validate(job)
    if job.total:
        parts = repository.part_results(session, job.id)
        read.result = (job.result or {}) | sum_results(parts)
    return read


def sum_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The numbers of several results added up, key by key."""
    totals: dict[str, Any] = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, Number) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


def get_job(session: Session, job_id: uuid.UUID) -> JobRead:
    job = repository.get(session, job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    return read_model(session, job)


def list_jobs(
    session: Session,
    state: JobState | None = None,
    kind: str | None = None,
    parent_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[JobRead]:
    return [
        read_model(session, job)
        for job in repository.listing(session, state, kind, parent_id, min(limit, MAX_LISTED))
    ]


@dataclass
class QueuedJob:
    """A job queued in the caller's unit of work; ``start`` once that is committed."""

    job: JobRead
    start: Callable[[], None]


def _queue(
    session: Session, dispatch: Dispatcher, kind: str, arguments: dict[str, Any], trigger: str
) -> QueuedJob:
    job_id = dispatch.queue(session, kind, arguments, trigger)
    session.flush()
    return QueuedJob(
        job=get_job(session, job_id),
        start=partial(dispatch.start, kind, job_id, arguments, trigger, None, background=True),
    )


def rating_arguments(request: RatingJobRequest) -> dict[str, Any]:
    """The ``rate_days`` job's arguments for the request; a window that ends before it
    starts, or spans more than a year, is refused, naming the field."""
    last = request.last or request.first
    if last < request.first:
        raise ValidationFailed(
            f"the window ends ({last}) before it starts ({request.first})",
            detail=[{"message": "before first", "field": "last"}],
        )
    if (last - request.first).days >= MAX_RATING_DAYS:
        raise ValidationFailed(
            f"at most {MAX_RATING_DAYS} days a job ({request.first} to {last} is more)",
            detail=[{"message": f"more than {MAX_RATING_DAYS} days after first", "field": "last"}],
        )
    return {
        "first": request.first.isoformat(),
        "last": last.isoformat(),
        "rerate": request.rerate,
        "shards": request.shards,
    }


def queue_rating(
    session: Session, dispatch: Dispatcher, request: RatingJobRequest, trigger: str
) -> QueuedJob:
    """``process-billing`` of a range of days as a job, one part per day (and shard)."""
    return _queue(session, dispatch, "rate_days", rating_arguments(request), trigger)


def queue_drafts(
    session: Session, dispatch: Dispatcher, request: DraftsJobRequest, trigger: str
) -> QueuedJob:
    """The month's draft invoices as a job."""
    arguments = {"year": request.year, "month": request.month}
    return _queue(session, dispatch, "invoice_drafts", arguments, trigger)
