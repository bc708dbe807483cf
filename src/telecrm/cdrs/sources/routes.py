from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import (
    BillingPrincipal,
    api_key_scheme,
    bearer_scheme,
    current_principal,
    require,
)
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.sources import service, staging
from telecrm.cdrs.sources.schemas import (
    CdrSourceCreate,
    CdrSourceRead,
    CdrSourceUpdate,
    FetchResult,
    FetchRunRead,
    PushAccepted,
)
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import (
    ExternalServiceError,
    PayloadTooLarge,
    SourceDisabled,
    SourceNameTaken,
    SourceNotFound,
    SourceNotPush,
)

router = APIRouter(prefix="/api", tags=["cdr sources"])
# Under /api/cdrs (telecrm.cdrs.routes): fetching a window.
cdrs_router = APIRouter(tags=["cdr sources"])
# POST /api/cdrs/push, the busiest route: create_app matches it first of all.
push_router = APIRouter(prefix="/api/cdrs", tags=["cdr sources"])
require_pbx = require(Role.PBX)
basic_scheme = HTTPBasic(
    auto_error=False, description="FreeSWITCH mod_json_cdr: any user name, the API key as password."
)

WINDOW_HELP = (
    "ISO date or time. A time without a zone is in the billing time zone; a bare date "
    "is its midnight, and as endDate it includes that whole day."
)


def pbx_principal(
    request: Request,
    background_tasks: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)],
) -> Principal:
    """A PBX's API key, sent as X-API-Key or, because FreeSWITCH's mod_json_cdr can
    only send HTTP Basic credentials, as the Basic password."""
    if token is None and api_key is None and basic is not None:
        api_key = basic.password
    return require_pbx(
        current_principal(request, background_tasks, session, settings, token, api_key)
    )


PbxPrincipal = Annotated[Principal, Depends(pbx_principal)]


@router.get("/cdr-sources", response_model=list[CdrSourceRead])
def list_sources(session: SessionDep, _: BillingPrincipal) -> list[CdrSourceRead]:
    return [service.read_model(source) for source in service.list_sources(session)]


@router.post(
    "/cdr-sources",
    response_model=CdrSourceRead,
    status_code=201,
    responses=error_responses(SourceNameTaken),
)
def create_source(
    session: SessionDep,
    body: CdrSourceCreate,
    principal: BillingPrincipal,
    settings: SettingsDep,
) -> CdrSourceRead:
    return service.read_model(service.create_source(session, body, settings, principal.role))


@router.get(
    "/cdr-sources/{source_id}",
    response_model=CdrSourceRead,
    responses=error_responses(SourceNotFound),
)
def get_source(session: SessionDep, source_id: IntId, _: BillingPrincipal) -> CdrSourceRead:
    return service.read_model(service.get_source(session, source_id))


@router.patch(
    "/cdr-sources/{source_id}",
    response_model=CdrSourceRead,
    responses=error_responses(SourceNotFound),
)
def update_source(
    session: SessionDep,
    source_id: IntId,
    body: CdrSourceUpdate,
    principal: BillingPrincipal,
    settings: SettingsDep,
) -> CdrSourceRead:
    return service.read_model(
        service.update_source(session, source_id, body, settings, principal.role)
    )


@router.delete(
    "/cdr-sources/{source_id}", status_code=204, responses=error_responses(SourceNotFound)
)
def delete_source(session: SessionDep, source_id: IntId, principal: BillingPrincipal) -> Response:
    service.delete_source(session, source_id, principal.role)
    return Response(status_code=204)


@router.get(
    "/cdr-sources/{source_id}/runs",
    response_model=list[FetchRunRead],
    responses=error_responses(SourceNotFound),
)
def list_runs(
    session: SessionDep,
    source_id: IntId,
    _: BillingPrincipal,
    before_id: IntId | None = Query(
        default=None, description="For the next page: the last id seen."
    ),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[FetchRunRead]:
    service.get_source(session, source_id)
    return [
        FetchRunRead.model_validate(run)
        for run in service.fetch_runs(session, source_id, limit, before_id)
    ]


@cdrs_router.get(
    "/fetch",
    response_model=FetchResult,
    summary="Fetch a window of CDRs from a source (seed 000)",
    responses=error_responses(SourceNotFound, SourceDisabled, ExternalServiceError),
)
def fetch_cdrs(
    session: SessionDep,
    _: BillingPrincipal,
    settings: SettingsDep,
    source: str = Query(description="The source's name."),
    start_date: str = Query(alias="startDate", description=WINDOW_HELP),
    end_date: str = Query(alias="endDate", description=WINDOW_HELP),
    cursor: str | None = Query(default=None, description="next_cursor of the previous page."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> FetchResult:
    return service.fetch_window(
        session, settings, source, start_date, end_date, "api", cursor=cursor, limit=limit
    )


@push_router.post(
    "/push",
    response_model=PushAccepted,
    status_code=202,
    summary="A PBX pushes CDRs: FreeSWITCH mod_json_cdr posts, or a JSON batch",
    description="202: the post is stored durably and will be imported (within "
    "TELECRM_PUSH_DRAIN_SECONDS on a server that drains); what is wrong with a call is "
    "then a reject (GET /api/cdrs/rejects), and the import is a run of the source.",
    responses=error_responses(SourceNotFound, SourceNotPush, SourceDisabled, PayloadTooLarge),
)
async def push_cdrs(
    request: Request,
    session: SessionDep,
    principal: PbxPrincipal,
    source: str = Query(description="The name of a source of type push."),
) -> PushAccepted:
    # async only to read the raw body (a form, base64 or JSON); the work runs in the
    # thread pool like every other route's.
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    return await run_in_threadpool(
        staging.accept_push, session, source, body, content_type, principal.actor
    )
