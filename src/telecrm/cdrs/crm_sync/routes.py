from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from telecrm.auth.dependencies import BillingPrincipal, require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.crm_sync import service
from telecrm.cdrs.crm_sync.schemas import (
    RequeueRequest,
    RequeueResult,
    SyncCounts,
    SyncLogRead,
    SyncRequest,
    SyncResult,
)
from telecrm.db import BigIntId
from telecrm.dependencies import SessionDep, SettingsDep

# Under /api/cdrs (telecrm.cdrs.routes).
router = APIRouter(tags=["crm call sync"])


def calls_connector(
    settings: SettingsDep,
) -> Iterator[service.LazyConnector]:
    connector = service.LazyConnector.hubspot(settings)
    try:
        yield connector
    finally:
        connector.close()


CallsConnector = Annotated[service.LazyConnector, Depends(calls_connector)]


@router.post("/sync", response_model=SyncResult, summary="Push CDRs to the CRM as calls (seed 000)")
def sync_cdrs(
    session: SessionDep,
    _: BillingPrincipal,
    settings: SettingsDep,
    connector: CallsConnector,
    body: SyncRequest | None = None,
) -> SyncResult:
    request = body or SyncRequest()
    return service.sync_request(
        session, connector, settings, request.cdr_ids, request.limit, request.retry_failed
    )


@router.post("/sync/requeue", response_model=RequeueResult)
def requeue_failed(
    session: SessionDep,
    _: BillingPrincipal,
    body: RequeueRequest | None = None,
) -> RequeueResult:
    return RequeueResult(
        requeued=service.requeue_failed(session, (body or RequeueRequest()).cdr_ids)
    )


@router.get("/sync-log", response_model=list[SyncLogRead], summary="Seed 000's Sync_Log")
def sync_log(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Role.BILLING, Role.VIEWER))],
    cdr_id: BigIntId | None = None,
    status: str | None = Query(default=None, description="synced, failed or deferred"),
    before_id: BigIntId | None = Query(
        default=None, description="For the next page: the last log_id seen."
    ),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[SyncLogRead]:
    return [
        SyncLogRead.model_validate(entry)
        for entry in service.sync_log(session, cdr_id, status, limit, before_id)
    ]


@router.get("/sync/counts", response_model=SyncCounts, summary="CDRs by sync state")
def sync_counts(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Role.BILLING, Role.VIEWER))],
    settings: SettingsDep,
) -> SyncCounts:
    return service.sync_counts(session, settings)
