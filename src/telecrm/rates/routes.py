from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, UploadFile

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import BillingPrincipal, require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.csvimport import ImportSummary
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import (
    RateGroupInUse,
    RateGroupNameTaken,
    RateGroupNotFound,
    RateGroupRatesUsed,
    RateInUse,
    RateNotFound,
    RateOverlap,
)
from telecrm.rates import imports, service
from telecrm.rates.schemas import (
    RateCreate,
    RateGroupCreate,
    RateGroupRead,
    RateGroupUpdate,
    RateRead,
    RateUpdate,
)

router = APIRouter(prefix="/api", tags=["rates"])

ReadAccess = Annotated[Principal, Depends(require(Role.BILLING, Role.SALES, Role.VIEWER))]


@router.get("/rate-groups", response_model=list[RateGroupRead])
def list_rate_groups(session: SessionDep, _: ReadAccess) -> list[RateGroupRead]:
    return service.list_groups(session)


@router.post(
    "/rate-groups",
    response_model=RateGroupRead,
    status_code=201,
    responses=error_responses(RateGroupNameTaken),
)
def create_rate_group(
    session: SessionDep, body: RateGroupCreate, _: BillingPrincipal
) -> RateGroupRead:
    return service.create_group(session, body)


@router.get(
    "/rate-groups/{rate_group_id}",
    response_model=RateGroupRead,
    responses=error_responses(RateGroupNotFound),
)
def get_rate_group(session: SessionDep, rate_group_id: IntId, _: ReadAccess) -> RateGroupRead:
    return service.get_group(session, rate_group_id)


@router.patch(
    "/rate-groups/{rate_group_id}",
    response_model=RateGroupRead,
    responses=error_responses(RateGroupNotFound, RateGroupNameTaken),
)
def update_rate_group(
    session: SessionDep,
    rate_group_id: IntId,
    body: RateGroupUpdate,
    _: BillingPrincipal,
) -> RateGroupRead:
    return service.update_group(session, rate_group_id, body)


@router.delete(
    "/rate-groups/{rate_group_id}",
    status_code=204,
    responses=error_responses(RateGroupNotFound, RateGroupInUse, RateGroupRatesUsed),
)
def delete_rate_group(session: SessionDep, rate_group_id: IntId, _: BillingPrincipal) -> Response:
    service.delete_group(session, rate_group_id)
    return Response(status_code=204)


@router.get(
    "/rate-groups/{rate_group_id}/rates",
    response_model=list[RateRead],
    responses=error_responses(RateGroupNotFound),
)
def list_rates(
    session: SessionDep,
    rate_group_id: IntId,
    _: ReadAccess,
    settings: SettingsDep,
    prefix: str | None = Query(default=None, description="Destinations starting with this."),
    active_at: dt.datetime | None = Query(default=None, description="In effect at this time."),
    after_id: IntId | None = Query(default=None, description="Keyset: rates after this id."),
    limit: int = Query(default=1000, ge=1, le=10_000),
) -> list[RateRead]:
    rates = service.list_rates(
        session, rate_group_id, settings.tz, prefix, active_at, after_id, limit
    )
    return [RateRead.model_validate(rate) for rate in rates]


@router.post(
    "/rate-groups/{rate_group_id}/rates",
    response_model=RateRead,
    status_code=201,
    responses=error_responses(RateGroupNotFound, RateOverlap),
)
def create_rate(
    session: SessionDep,
    rate_group_id: IntId,
    body: RateCreate,
    _: BillingPrincipal,
    settings: SettingsDep,
) -> RateRead:
    return RateRead.model_validate(service.create_rate(session, rate_group_id, body, settings.tz))


@router.post(
    "/rate-groups/{rate_group_id}/rates/upload",
    response_model=ImportSummary,
    summary="Upload a rate deck (CSV)",
    description="The CSV columns of `telecrm rates import` (rate_group_id may be left out). "
    "Every bad row is reported by line and nothing is imported unless all rows are good.",
    responses=error_responses(RateGroupNotFound),
)
def upload_rates(
    session: SessionDep,
    rate_group_id: IntId,
    file: UploadFile,
    _: BillingPrincipal,
    settings: SettingsDep,
) -> ImportSummary:
    return imports.upload_rates(
        session, rate_group_id, file.file, file.filename or "upload.csv", settings.tz
    )


@router.get("/rates/{rate_id}", response_model=RateRead, responses=error_responses(RateNotFound))
def get_rate(session: SessionDep, rate_id: IntId, _: ReadAccess) -> RateRead:
    return RateRead.model_validate(service.require_rate(session, rate_id))


@router.patch(
    "/rates/{rate_id}",
    response_model=RateRead,
    responses=error_responses(RateNotFound, RateOverlap, RateInUse),
)
def update_rate(
    session: SessionDep,
    rate_id: IntId,
    body: RateUpdate,
    _: BillingPrincipal,
    settings: SettingsDep,
) -> RateRead:
    return RateRead.model_validate(service.update_rate(session, rate_id, body, settings.tz))


@router.delete(
    "/rates/{rate_id}",
    status_code=204,
    responses=error_responses(RateNotFound, RateInUse),
)
def delete_rate(session: SessionDep, rate_id: IntId, _: BillingPrincipal) -> Response:
    service.delete_rate(session, rate_id)
    return Response(status_code=204)
