from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from telecrm.auth.dependencies import require
from telecrm.auth.models import Role
from telecrm.dependencies import SessionDep, SettingsDep
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
    settings: SettingsDep,
    year: int = Query(ge=2000, le=2100),
    month: int = Query(ge=1, le=12),
) -> Reconciliation:
    return service.reconcile(session, year, month, settings)
