"""``telecrm jobs``: start long jobs, read their state and progress."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import typer

from telecrm.config import get_settings
from telecrm.console import console, print_table, progress
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed
from telecrm.jobs import service
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.models import FINISHED_STATES, JobState
from telecrm.jobs.schemas import DraftsJobRequest, JobRead, RatingJobRequest

jobs_app = typer.Typer(help="Background jobs: start them, read their state and progress.")

_POLL_SECONDS = 0.5


def _progress(job: JobRead) -> str:
    return (
        f"{job.done}/{job.total}"
        if job.total is not None
        else ("-" if job.done == 0 else str(job.done))
    )


def _job_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ValidationFailed(f"{text!r} is not a job id (a UUID)") from exc


@jobs_app.command("list")
def list_jobs(
    state: JobState | None = typer.Option(None, help="Only jobs in this state."),
    kind: str | None = typer.Option(None, help="Only jobs of this kind (rate_day, ...)."),
    parent: str | None = typer.Option(None, help="Only the parts of this job."),
    limit: int = typer.Option(50, min=1, max=service.MAX_LISTED),
) -> None:
    """The latest jobs, newest first, with their state and progress."""
    parent_id = _job_id(parent) if parent else None
    with session_scope(write=False) as session:
        jobs = service.list_jobs(session, state, kind, parent_id, limit)
    print_table(
        f"{len(jobs)} jobs",
        ["id", "kind", "state", "progress", "trigger", "worker", "created", "seconds", "error"],
        [
            (
                job.id,
                job.kind,
                job.state.value,
                _progress(job),
                job.trigger,
                job.worker,
                f"{job.created_at:%Y-%m-%d %H:%M:%S}",
                None if job.duration_seconds is None else f"{job.duration_seconds:.1f}",
                job.error,
            )
            for job in jobs
        ],
    )


def _show(job: JobRead) -> None:
    rows: list[tuple[str, object]] = [
        ("kind", job.kind),
        ("arguments", job.arguments),
        ("state", job.state.value),
        ("progress", _progress(job)),
        ("trigger", job.trigger),
        ("worker", job.worker),
        ("attempts", job.attempts),
        ("created", job.created_at),
        ("started", job.started_at),
        ("finished", job.finished_at),
        ("seconds", job.duration_seconds),
    ]
    rows += [(f"result: {key}", value) for key, value in (job.result or {}).items()]
    if job.error:
        rows.append(("error", job.error))
    print_table(f"job {job.id}", ["", ""], rows)


@jobs_app.command("show")
def show(job_id: str = typer.Argument(..., help="The job's id.")) -> None:
    """One job: its state, progress, result or error."""
    with session_scope(write=False) as session:
        _show(service.get_job(session, _job_id(job_id)))


def _wait(job_id: uuid.UUID) -> JobRead:
    """Follow a job queued for the workers until it ends, with a progress bar."""
    with progress() as bar:
        task = bar.add_task("queued", total=None)
        while True:
            with session_scope(write=False) as session:
                job = service.get_job(session, job_id)
            bar.update(task, description=job.state.value, completed=job.done, total=job.total)
            if job.state in FINISHED_STATES:
                return job
            time.sleep(_POLL_SECONDS)


def _start(kind: str, arguments: dict[str, object], wait: bool) -> None:
    dispatch = Dispatcher(get_settings())
    job_id = dispatch(kind, arguments, trigger="cli")
    if dispatch.uses_broker and not wait:
        console.print(f"job {job_id} queued: telecrm jobs show {job_id}")
        return
    if dispatch.uses_broker:
        _wait(job_id)
    with session_scope(write=False) as session:
        job = service.get_job(session, job_id)
    _show(job)
    if job.state is not JobState.SUCCEEDED:
        raise typer.Exit(1)


@jobs_app.command("rate")
def rate(
    first: dt.datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First day."),
    last: dt.datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="Last day, included (default: --from)."
    ),
    rerate: bool = typer.Option(False, help="Rate rated CDRs again too (not on sent invoices)."),
    shards: int = typer.Option(1, min=1, max=64, help="Jobs per day, each a share of its calls."),
    wait: bool = typer.Option(False, help="With a broker: follow the job until it ends."),
) -> None:
    """Rate a range of days as jobs, one per day (and shard): on the workers with a
    broker, here without one."""
    request = RatingJobRequest(
        first=first.date(), last=last.date() if last else None, rerate=rerate, shards=shards
    )
    _start("rate_days", service.rating_arguments(request), wait)


@jobs_app.command("drafts")
def drafts(
    year: int = typer.Option(..., min=2000, max=9999),
    month: int = typer.Option(..., min=1, max=12),
    wait: bool = typer.Option(False, help="With a broker: follow the job until it ends."),
) -> None:
    """Generate a month's draft invoices as a job."""
    request = DraftsJobRequest(year=year, month=month)
    _start("invoice_drafts", request.model_dump(), wait)
