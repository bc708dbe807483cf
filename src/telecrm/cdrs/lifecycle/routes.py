from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from telecrm.auth.dependencies import require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.lifecycle import service
from telecrm.cdrs.lifecycle.schemas import CdrStatusRead
from telecrm.dependencies import SessionDep

# Under /api/cdrs (telecrm.cdrs.routes).
router = APIRouter(tags=["cdr status"])


@router.get(
    "/statuses",
    response_model=list[CdrStatusRead],
    summary="Seed 000's CDR_Status, with how many CDRs are in each",
)
def list_statuses(
    session: SessionDep, _: Annotated[Principal, Depends(require(Role.BILLING, Role.VIEWER))]
) -> list[CdrStatusRead]:
    return [
        CdrStatusRead(status_id=status.status_id, description=status.description, cdrs=count)
        for status, count in service.statuses_with_counts(session)
    ]
