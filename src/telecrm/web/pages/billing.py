"""Billing work: upload a CDR file (its import's summary and rejects) and process a
day or a period (rate, or rerate). The same services as ``telecrm cdr import`` and
``telecrm cdr process-billing``; the roles of the CDR management API (admin, billing)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from telecrm.cdrs.formats import FileFormat
from telecrm.cdrs.imports import service as imports_service
from telecrm.cdrs.rating_run import service as rating_service
from telecrm.cdrs.window import day_window, zone_info
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import AppError, ValidationFailed
from telecrm.web.dependencies import BillingPage
from telecrm.web.templating import render

router = APIRouter()
REJECTS_SHOWN = 100


def _page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """The whole page, or only its result for HTMX (which swaps it in place)."""
    if request.headers.get("HX-Request"):
        template = template.replace(".html", "_result.html")
    return render(request, template, context, status)


def _upload_context(settings: Any, **values: Any) -> dict[str, Any]:
    return {
        "formats": list(FileFormat),
        "chosen_format": values.pop("chosen_format", FileFormat.ASTERISK_CSV.value),
        "chosen_zone": values.pop("chosen_zone", settings.timezone),
        "record": None,
        "findings": None,
        "rejects": [],
        "error": None,
        **values,
    }


@router.get("/calls/upload", include_in_schema=False)
def upload_form(request: Request, settings: SettingsDep, _: BillingPage) -> HTMLResponse:
    return render(request, "billing/upload.html", _upload_context(settings))


@router.post("/calls/upload", include_in_schema=False)
def upload_cdrs(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: BillingPage,
    file: UploadFile,
    file_format: Annotated[FileFormat, Form(alias="format")],
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    zone = timezone.strip() or settings.timezone
    chosen = {"chosen_format": file_format.value, "chosen_zone": zone}
    try:
        zone_info(zone)
    except ValidationFailed as exc:
        context = _upload_context(settings, error=f"timezone: {exc.message}", **chosen)
        return _page(request, "billing/upload.html", context, exc.status_code)
    name = file.filename or "upload"
    after_id = imports_service.last_cdr_id(session)
    record = None
    for batch in imports_service.import_upload(
        session, file.file, name, file_format.value, zone, settings.cdr_import_batch_size
    ):
        # As the CLI does: each stored batch is kept, whatever happens to the next.
        session.commit()
        record = batch
    if record is None:
        context = _upload_context(settings, error=f"{name} is empty: no call in it", **chosen)
        return _page(request, "billing/upload.html", context, 422)
    context = _upload_context(
        settings,
        record=record,
        findings=imports_service.import_findings(session, record.id, after_id),
        rejects=imports_service.list_rejects(session, record.id, None, REJECTS_SHOWN),
        **chosen,
    )
    return _page(request, "billing/upload.html", context)


def _billing_context(settings: Any, **values: Any) -> dict[str, Any]:
    today = dt.datetime.now(settings.tz).date()
    return {
        "first": values.pop("first", (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)),
        "last": values.pop("last", ""),
        "rerate": values.pop("rerate", False),
        "summary": None,
        "window": None,
        "error": None,
        **values,
    }


@router.get("/billing", include_in_schema=False)
def billing(request: Request, settings: SettingsDep, _: BillingPage) -> HTMLResponse:
    return render(request, "billing/process.html", _billing_context(settings))


@router.post("/billing", include_in_schema=False)
def process_billing(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: BillingPage,
    first: Annotated[dt.date, Form()],
    last: Annotated[dt.date | None, Form()] = None,
    rerate: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Rate (or rerate) the calls of the days ``first`` to ``last`` (both included;
    ``last`` empty: the one day) of the billing time zone."""
    shown = {"first": first, "last": last or "", "rerate": rerate}
    try:
        start, end = day_window(first, last or first, settings.timezone)
        summary = rating_service.process_billing(session, start, end, rerate, settings)
    except AppError as exc:
        session.rollback()
        context = _billing_context(settings, error=exc.message, **shown)
        return _page(request, "billing/process.html", context, exc.status_code)
    days = (last or first) - first
    window = f"{first}" if not days else f"{first} to {last} ({days.days + 1} days)"
    context = _billing_context(
        settings, summary=summary, window=f"{window}, {settings.timezone}", **shown
    )
    return _page(request, "billing/process.html", context)
