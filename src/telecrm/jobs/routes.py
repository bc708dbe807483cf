from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import BillingPrincipal
from telecrm.dependencies import SessionDep
from telecrm.errors import JobNotFound, ValidationFailed
from telecrm.jobs import service
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.models import JobState
from telecrm.jobs.schemas import DraftsJobRequest, JobRead, RatingJobRequest

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def get_dispatcher(request: Request) -> Dispatcher:
    return Dispatcher(request.app.state.settings, request.app.state.engine)


DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


@router.get("", response_model=list[JobRead], summary="Background jobs, newest first")
def list_jobs(
    session: SessionDep,
    _: BillingPrincipal,
    state: JobState | None = None,
    kind: str | None = Query(default=None, max_length=50),
    parent_id: uuid.UUID | None = Query(default=None, description="The parts of this job."),
    limit: int = Query(default=50, ge=1, le=service.MAX_LISTED),
) -> list[JobRead]:
    return service.list_jobs(session, state, kind, parent_id, limit)


@router.get("/{job_id}", response_model=JobRead, responses=error_responses(JobNotFound))
def get_job(session: SessionDep, _: BillingPrincipal, job_id: uuid.UUID) -> JobRead:
    return service.get_job(session, job_id)


@router.post(
    "/rating",
    response_model=JobRead,
    status_code=202,
    summary="Rate a range of days as a background job",
    description="As `telecrm cdr process-billing`, one job per day spread over the workers; "
    "answers at once with the job, whose state and progress `GET /api/jobs/{id}` reads.",
    responses=error_responses(ValidationFailed),
)
def start_rating(
    session: SessionDep,
    principal: BillingPrincipal,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
    body: RatingJobRequest,
) -> JobRead:
    queued = service.queue_rating(session, dispatcher, body, principal.name)
    background.add_task(queued.start)  # once the request's unit of work is committed
    return queued.job


@router.post(
    "/invoice-drafts",
    response_model=JobRead,
    status_code=202,
    summary="Generate a month's draft invoices as a background job",
    responses=error_responses(ValidationFailed),
)
def start_drafts(
    session: SessionDep,
    principal: BillingPrincipal,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
    body: DraftsJobRequest,
) -> JobRead:
    queued = service.queue_drafts(session, dispatcher, body, principal.name)
    background.add_task(queued.start)
    return queued.job
