"""Calls: the search (keyset pages, newest first), a call's page, the CSV export of a
search, and the imports with their rejected rows. The same services as
``GET /api/cdrs``, ``GET /api/cdrs/{cdr_id}``, ``GET /api/cdrs/imports`` and
``GET /api/cdrs/rejects``, with the same roles."""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import Annotated, Any, TextIO, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.export import service as export_service
from telecrm.cdrs.imports import service as imports_service
from telecrm.cdrs.listing import service as listing
from telecrm.config import Settings
from telecrm.contracts.scope import ContractScope
from telecrm.db import BigIntId, IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.web.dependencies import StaffPage, page_require
from telecrm.web.pages.call_search import REASONS, STATUSES, CallSearch
from telecrm.web.permissions import page_roles
from telecrm.web.templating import render

router = APIRouter()

ImportsPage = Annotated[Principal, Depends(page_require(Role.BILLING, Role.VIEWER))]
PAGE_SIZE = 50
REJECTS_SHOWN = 500
# An export is written to this much memory, then to a temporary file, and sent from
# there: the request's unit of work has ended by the time the response is sent.
EXPORT_IN_MEMORY = 8 * 2**20


def search_page(
    request: Request,
    session: Session,
    settings: Settings,
    scope: ContractScope,
    template: str,
    base: str,
) -> HTMLResponse:
    """A page of the calls a search finds, or the form with an error by each field."""
    search = CallSearch.of(request, by_account=not scope.restricted)
    errors = search.errors()
    context: dict[str, Any] = {
        "search": search,
        "errors": errors,
        "statuses": STATUSES,
        "reasons": REASONS,
        "base": base,
        "calls": [],
        "currencies": {},
        "next_query": None,
    }
    if errors:
        return render(request, template, context, status_code=422)
    calls, next_cursor = listing.list_cdrs(
        session, scope, search.filters(), settings.tz, search.cursor or None, PAGE_SIZE
    )
    context["calls"] = calls
    context["currencies"] = listing.currencies(session, calls)
    context["next_query"] = search.query(cursor=next_cursor) if next_cursor else None
    context["export_query"] = search.query(cursor="")
    return render(request, template, context)


def call_page(
    request: Request, session: Session, scope: ContractScope, cdr_id: int, template: str
) -> HTMLResponse:
    detail = listing.call_detail(session, scope, cdr_id)
    return render(request, template, {"detail": detail, "call": detail.cdr})


def csv_export(
    request: Request, session: Session, settings: Settings, scope: ContractScope, name: str
) -> Response:
    """The calls of the search in the query string, every page of it, as CSV."""
    search = CallSearch.of(request, by_account=not scope.restricted)
    errors = search.errors()
    if errors:
        fields = "; ".join(f"{field}: {message}" for field, message in errors.items())
        return render(
            request,
            "error.html",
            {"status": 422, "message": f"invalid search: {fields}", "code": "validation_failed"},
            status_code=422,
        )
    # closed by the response once sent (chunks)
    spool = SpooledTemporaryFile(max_size=EXPORT_IN_MEMORY, mode="w+", newline="")  # noqa: SIM115
    count = export_service.export_filtered(
        session, scope, search.filters(), settings.tz, "csv", cast(TextIO, spool)
    )
    spool.seek(0)

    def chunks() -> Any:
        with spool:
            while chunk := spool.read(2**16):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Row-Count": str(count),
        },
    )


@router.get("/calls", include_in_schema=False)
def calls(
    request: Request, session: SessionDep, settings: SettingsDep, principal: StaffPage
) -> HTMLResponse:
    return search_page(
        request, session, settings, ContractScope.of(principal), "calls/index.html", "/calls"
    )


@router.get("/calls/export.csv", include_in_schema=False)
def export_calls(
    request: Request, session: SessionDep, settings: SettingsDep, principal: StaffPage
) -> Response:
    return csv_export(request, session, settings, ContractScope.of(principal), "calls.csv")


@router.get("/calls/imports", include_in_schema=False)
def imports(request: Request, session: SessionDep, principal: ImportsPage) -> HTMLResponse:
    # the upload page (another area's) when the app has it and the role may open it
    upload = page_roles(request.app).get(("GET", "/calls/upload"), frozenset())
    context = {
        "imports": imports_service.list_imports(session, 100),
        "upload_offered": principal.role in upload,
    }
    return render(request, "calls/imports.html", context)


@router.get("/calls/imports/{import_id:int}", include_in_schema=False)
def import_page(
    request: Request, session: SessionDep, import_id: IntId, _: ImportsPage
) -> HTMLResponse:
    record = imports_service.get_import(session, import_id)
    rejects = imports_service.list_rejects(session, import_id, None, REJECTS_SHOWN)
    return render(
        request,
        "calls/import.html",
        {"record": record, "rejects": rejects, "rejects_shown": REJECTS_SHOWN},
    )


# ":int": another page under /calls/ (the upload) is not taken for a call
@router.get("/calls/{cdr_id:int}", include_in_schema=False)
def call(
    request: Request, session: SessionDep, cdr_id: BigIntId, principal: StaffPage
) -> HTMLResponse:
    return call_page(request, session, ContractScope.of(principal), cdr_id, "calls/call.html")
