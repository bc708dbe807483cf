"""Rate groups and their rates: the list, a group's rates with a prefix search, a rate
deck upload (all or nothing, every bad line shown) and a price change (the rate ends,
a new one starts at that instant). The same services as ``/api/rate-groups``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import AppError
from telecrm.rates import imports, service
from telecrm.rates.schemas import PriceChange, RateGroupCreate
from telecrm.web.dependencies import BillingPage, page_require
from telecrm.web.forms import FORM, FieldErrors, form_values, parse, refusal_errors
from telecrm.web.templating import render

router = APIRouter()

# As GET /api/rate-groups.
RateReader = Annotated[Principal, Depends(page_require(Role.BILLING, Role.SALES, Role.VIEWER))]
PAGE_SIZE = 100
PRICE_FIELDS = ("billing_rate", "connect_fee", "effective_from")


def _groups_page(
    request: Request,
    session: Any,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "groups": service.list_groups(session),
        "values": values or {},
        "errors": errors or {},
        "form_error": (errors or {}).get(FORM),
    }
    return render(request, "rates/groups.html", context, status_code)


@router.get("/rate-groups", include_in_schema=False)
def rate_groups(request: Request, session: SessionDep, _: RateReader) -> HTMLResponse:
    return _groups_page(request, session)


@router.post("/rate-groups", include_in_schema=False)
def create_rate_group(
    request: Request,
    session: SessionDep,
    _: BillingPage,
    name: Annotated[str, Form(max_length=200)] = "",
    memo: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    values = {"name": name, "memo": memo}
    data, errors = parse(RateGroupCreate, form_values(values, values))
    if data is None:
        return _groups_page(request, session, values, errors, 422)
    try:
        group = service.create_group(session, data)
    except AppError as exc:
        session.rollback()
        errors = {"name": exc.message}
        return _groups_page(request, session, values, errors, exc.status_code)
    return RedirectResponse(f"/rate-groups/{group.id}", status_code=303)


def _group_page(
    request: Request,
    session: Any,
    settings: Any,
    group_id: int,
    prefix: str | None = None,
    after_id: int | None = None,
    change: int | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    group = service.get_group(session, group_id)
    found = service.list_rates(
        session, group_id, settings.tz, prefix or None, None, after_id, PAGE_SIZE + 1
    )
    rates = found[:PAGE_SIZE]
    changing = service.require_rate(session, change) if change else None
    if changing is not None and changing.rate_group_id != group_id:
        changing = None
    context: dict[str, Any] = {
        "group": group,
        "rates": rates,
        "prefix": prefix or "",
        "next_after": rates[-1].id if len(found) > PAGE_SIZE else None,
        "changing": changing,
        "price_values": {},
        "price_errors": {},
        "deck_errors": None,
        "deck_message": None,
        "imported": None,
        "deck_name": None,
        **extra,
    }
    if request.headers.get("HX-Request") and request.method == "GET":
        return render(request, "rates/rates_table.html", context)
    return render(request, "rates/group.html", context, status_code)


@router.get("/rate-groups/{rate_group_id}", include_in_schema=False)
def rate_group(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_group_id: IntId,
    _: RateReader,
    prefix: Annotated[str | None, Query(max_length=20)] = None,
    after_id: IntId | None = None,
    change: IntId | None = None,
) -> HTMLResponse:
    return _group_page(request, session, settings, rate_group_id, prefix, after_id, change)


@router.post("/rate-groups/{rate_group_id}/upload", include_in_schema=False)
def upload_rate_deck(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_group_id: IntId,
    _: BillingPage,
    file: UploadFile,
) -> HTMLResponse:
    """As ``POST /api/rate-groups/{id}/rates/upload``: every bad line, nothing imported."""
    service.require_group(session, rate_group_id)
    name = file.filename or "upload.csv"
    try:
        summary = imports.upload_rates(session, rate_group_id, file.file, name, settings.tz)
    except AppError as exc:
        session.rollback()
        return _group_page(
            request,
            session,
            settings,
            rate_group_id,
            deck_message=f"{len(exc.detail)} bad lines" if exc.detail else exc.message,
            deck_errors=exc.detail or [],
            deck_name=name,
            status_code=exc.status_code,
        )
    return _group_page(request, session, settings, rate_group_id, imported=summary, deck_name=name)


@router.post("/rates/{rate_id}/price", include_in_schema=False)
async def change_price(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_id: IntId,
    _: BillingPage,
) -> Response:
    """As ``PATCH /api/rates/{id}`` (its end) then ``POST .../rates`` (the new price)."""
    rate = service.require_rate(session, rate_id)
    group_id = rate.rate_group_id
    form = await request.form()
    posted = {name: value for name, value in form.items() if isinstance(value, str)}
    data, errors = parse(PriceChange, form_values(posted, PRICE_FIELDS))
    status_code = 422
    if data is not None:
        try:
            _ended, started = service.change_price(session, rate_id, data, settings.tz)
        except AppError as exc:
            session.rollback()
            errors, status_code = refusal_errors(exc, PRICE_FIELDS), exc.status_code
        else:
            return RedirectResponse(
                f"/rate-groups/{group_id}?prefix={started.destination_prefix}#rates",
                status_code=303,
            )
    return _group_page(
        request,
        session,
        settings,
        group_id,
        change=rate_id,
        price_values=posted,
        price_errors=errors,
        status_code=status_code,
    )
