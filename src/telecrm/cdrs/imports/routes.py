"""The API of CDR imports: what each import did, and the rows it could not store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from telecrm.auth.dependencies import require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.imports import service
from telecrm.cdrs.imports.schemas import CdrImportRead, CdrRejectRead
from telecrm.db import IntId
from telecrm.dependencies import SessionDep

# Under /api/cdrs (telecrm.cdrs.routes).
router = APIRouter(tags=["cdrs"])

# Rejected rows are raw CDRs of every customer: staff who follow billing only.
ReadAccess = Annotated[Principal, Depends(require(Role.BILLING, Role.VIEWER))]


@router.get("/imports", response_model=list[CdrImportRead], summary="CDR imports, newest first")
def list_imports(
    session: SessionDep,
    _: ReadAccess,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[CdrImportRead]:
    return [CdrImportRead.model_validate(r) for r in service.list_imports(session, limit)]


@router.get(
    "/rejects", response_model=list[CdrRejectRead], summary="Rows an import rejected, newest first"
)
def list_rejects(
    session: SessionDep,
    _: ReadAccess,
    import_id: IntId | None = None,
    source: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[CdrRejectRead]:
    rejects = service.list_rejects(session, import_id, source, limit)
    return [CdrRejectRead.model_validate(reject) for reject in rejects]
