"""The customer portal: only the customer's own contract (``ContractScope``, as the
API scopes a customer): its usage by day and by destination, and its calls (search, a
call's page, CSV export). Another customer's call is a 404, as in the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from telecrm.cdrs.traffic import service as traffic
from telecrm.contracts.scope import ContractScope
from telecrm.db import BigIntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.web.charts import month_charts
from telecrm.web.dependencies import CustomerPage
from telecrm.web.pages.calls import call_page, csv_export, search_page
from telecrm.web.pages.month import month_context, parse_month
from telecrm.web.templating import render

router = APIRouter()


@router.get("/portal", include_in_schema=False)
def portal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CustomerPage,
    month: str | None = None,
) -> HTMLResponse:
    (year, number), error = parse_month(month, settings)
    figures = traffic.month_figures(session, ContractScope.of(principal), year, number, settings)
    context = {
        "figures": figures,
        "charts": month_charts(figures, "Cost"),
        "money_label": "Cost",
        **month_context(year, number, error),
    }
    return render(request, "portal/index.html", context, status_code=422 if error else 200)


@router.get("/portal/calls", include_in_schema=False)
def portal_calls(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CustomerPage
) -> HTMLResponse:
    scope = ContractScope.of(principal)
    return search_page(request, session, settings, scope, "portal/calls.html", "/portal/calls")


@router.get("/portal/calls/export.csv", include_in_schema=False)
def portal_export(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CustomerPage
) -> Response:
    return csv_export(request, session, settings, ContractScope.of(principal), "my-calls.csv")


@router.get("/portal/calls/{cdr_id:int}", include_in_schema=False)
def portal_call(
    request: Request, session: SessionDep, cdr_id: BigIntId, principal: CustomerPage
) -> HTMLResponse:
    scope = ContractScope.of(principal)
    return call_page(request, session, scope, cdr_id, "portal/call.html")
