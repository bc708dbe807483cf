"""The call sync with the CRM: CDRs by sync state, seed 000's Sync_Log, and "retry
failed" (the same services as ``/api/cdrs/sync/counts``, ``/api/cdrs/sync-log`` and
``/api/cdrs/sync/requeue``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.crm_sync import service
from telecrm.db import BigIntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.web.dependencies import BillingPage, page_require
from telecrm.web.forms import FormErrors, filter_status, optional_value
from telecrm.web.templating import render

router = APIRouter()

LOG_PAGE = 50
# Who may read the sync: as GET /api/cdrs/sync-log.
SyncReader = Annotated[Principal, Depends(page_require(Role.BILLING, Role.VIEWER))]


@router.get("/sync", include_in_schema=False)
def sync_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: SyncReader,
    status: Literal["", "synced", "failed", "deferred"] = "",
    cdr_id: str = "",
    before_id: Annotated[BigIntId | None, Query()] = None,
    requeued: int | None = None,
) -> HTMLResponse:
    errors = FormErrors()
    cdr = optional_value(BigIntId, cdr_id, "cdr_id", errors)
    entries = service.sync_log(session, cdr, status or None, LOG_PAGE + 1, before_id)
    context = {
        "errors": errors,
        "counts": service.sync_counts(session, settings),
        "entries": entries[:LOG_PAGE],
        "next_before": entries[LOG_PAGE - 1].log_id if len(entries) > LOG_PAGE else None,
        "status": status,
        "cdr_id": cdr_id.strip(),
        "requeued": requeued,
    }
    return render(request, "sync/index.html", context, status_code=filter_status(request, errors))


@router.post("/sync/retry-failed", include_in_schema=False)
def retry_failed(session: SessionDep, _: BillingPage) -> Response:
    """Every failed CDR back to pending, its attempts reset: the next sync pushes it."""
    count = service.requeue_failed(session)
    return RedirectResponse(f"/sync?requeued={count}", status_code=303)
