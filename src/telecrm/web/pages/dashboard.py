"""The staff dashboard: a month's calls, minutes, revenue, ASR and ACD per day as
charts (one service function, ``cdrs.traffic.service.month_figures``), the top
destinations and accounts, the calls that need attention (linked to the calls list,
filtered), and the last fetch runs and CRM sync attempts with their failures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from telecrm.cdrs.crm_sync import service as crm_sync
from telecrm.cdrs.sources import service as sources
from telecrm.cdrs.traffic import service as traffic
from telecrm.contracts.scope import ContractScope
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.web.charts import month_charts
from telecrm.web.dependencies import StaffPage
from telecrm.web.pages.month import month_context, parse_month
from telecrm.web.permissions import may
from telecrm.web.templating import render

router = APIRouter()

RECENT = 8


@router.get("/dashboard", include_in_schema=False)
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffPage,
    month: str | None = None,
) -> HTMLResponse:
    (year, number), error = parse_month(month, settings)
    figures = traffic.month_figures(session, ContractScope.of(principal), year, number, settings)
    role = principal.role
    # what the role may read through the API, it sees here
    runs_visible = may(request.app, role, "GET", "/api/cdr-sources/{source_id}/runs")
    sync_visible = may(request.app, role, "GET", "/api/cdrs/sync-log")
    context = {
        "figures": figures,
        "charts": month_charts(figures),
        "money_label": "Revenue",
        **month_context(year, number, error),
        "runs": sources.fetch_runs(session, limit=RECENT) if runs_visible else None,
        "sources": {s.id: s.name for s in sources.list_sources(session)} if runs_visible else {},
        "sync_recent": crm_sync.sync_log(session, limit=RECENT) if sync_visible else None,
        "sync_failures": crm_sync.sync_log(session, status="failed", limit=RECENT)
        if sync_visible
        else None,
    }
    return render(request, "dashboard/index.html", context, status_code=422 if error else 200)
