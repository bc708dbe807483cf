from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query

from telecrm.audit import service
from telecrm.audit.schemas import AuditEntryRead
from telecrm.auth.dependencies import AdminPrincipal
from telecrm.db import BigIntId
from telecrm.dependencies import SessionDep

router = APIRouter(prefix="/api", tags=["audit"])


@router.get("/audit", response_model=list[AuditEntryRead])
def list_audit_entries(
    session: SessionDep,
    _: AdminPrincipal,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    before_id: BigIntId | None = Query(
        default=None, description="Keyset: entries older than this id"
    ),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[AuditEntryRead]:
    entries = service.list_entries(
        session,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        since=since,
        before_id=before_id,
        limit=limit,
    )
    return [AuditEntryRead.model_validate(entry) for entry in entries]
