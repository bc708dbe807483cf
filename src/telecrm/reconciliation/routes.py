from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from telecrm.auth.dependencies import get_app_settings, require
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.dependencies import SessionDep
from telecrm.reconciliation import service
from telecrm.reconciliation.schemas import Reconciliation

router = APIRouter(prefix="/api", tags=["billing"])


@router.get(
    "/billing/reconciliation",
    response_model=Reconciliation,
    summary="A month's revenue reconciliation",
    description="As `telecrm billing reconcile`: every call of the month in exactly one "
    "bucket per contract, with its money, tied out to the invoices (`ties_out`, and "
    "`problems` where it does not).",
    dependencies=[Depends(require(Role.BILLING))],
)
def reconciliation(
    session: SessionDep,
    year: int = Query(ge=2000, le=2100),
    month: int = Query(ge=1, le=12),
    settings: Settings = Depends(get_app_settings),
) -> Reconciliation:
    return service.reconcile(session, year, month, settings)
