"""The CRM: accounts, contacts and deals with filters, sort and pages (the services
behind ``GET /api/accounts`` ...); the deal aggregations as a chart fed by one sum per
period (``GET /api/reports/deal-aggregations/periods``); and the extract and push
actions with their outcome (``POST /api/crm/extract``, ``/api/crm/push``)."""

from __future__ import annotations

import enum
import json
import typing
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from telecrm.accounts.schemas import AccountQuery
from telecrm.accounts.service import ACCOUNTS
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.contacts.schemas import ContactQuery
from telecrm.contacts.service import CONTACTS
from telecrm.crm import sync
from telecrm.crm.connector import CrmDomain
from telecrm.crm.schemas import CrmSyncRequest, ListQuery
from telecrm.crm.service_base import CrmDomainSpec, CrmService
from telecrm.deals.schemas import DealQuery
from telecrm.deals.service import DEALS
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import ValidationFailed
from telecrm.reports import service as reports
from telecrm.reports.models import AggregationKind
from telecrm.reports.schemas import DealAggregationQuery
from telecrm.web.dependencies import StaffPage, page_require
from telecrm.web.forms import FormErrors, errors_of, filter_status
from telecrm.web.templating import render

router = APIRouter()

PAGE_SIZE = 50
# Who may change CRM data, pull from the CRM and push to it: as CrmWriter in the API.
CrmWriterPage = Annotated[Principal, Depends(page_require(Role.SALES))]


@dataclass(frozen=True)
class CrmList:
    title: str
    domain_spec: CrmDomainSpec
    query: type[ListQuery]
    domain: CrmDomain


LISTS: dict[str, CrmList] = {
    "accounts": CrmList("Accounts", ACCOUNTS, AccountQuery, CrmDomain.ACCOUNTS),
    "contacts": CrmList("Contacts", CONTACTS, ContactQuery, CrmDomain.CONTACTS),
    "deals": CrmList("Deals", DEALS, DealQuery, CrmDomain.DEALS),
}
NOT_FILTERS = {"sort", "offset", "limit", "crm_id", "created_at"}


@dataclass(frozen=True)
class FilterField:
    name: str
    label: str
    choices: tuple[str, ...]


def filter_fields(query: type[BaseModel]) -> list[FilterField]:
    fields = []
    for name, info in query.model_fields.items():
        if name in NOT_FILTERS:
            continue
        args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
        kind = args[0] if args else info.annotation
        choices: tuple[str, ...] = ()
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            choices = tuple(str(member.value) for member in kind)
        fields.append(FilterField(name, name.replace("_", " ").capitalize(), choices))
    return fields


def _crm_configured(request: Request) -> bool:
    return request.app.state.settings.hubspot_token is not None


def _list_page(name: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    spec = LISTS[name]
    filters = filter_fields(spec.query)
    params = {
        key: value.strip()
        for key, value in request.query_params.items()
        if key in {f.name for f in filters} | {"sort", "offset"} and value.strip()
    }
    errors = FormErrors()
    page = None
    try:
        query = spec.query.model_validate({**params, "limit": PAGE_SIZE})
        page = CrmService(spec.domain_spec, session, settings).list_page(query)
    except (ValidationError, ValidationFailed) as exc:
        errors = errors_of(exc, strip=("query",))
    sort = params.get("sort", spec.query.model_fields["sort"].default)
    context = {
        "name": name,
        "spec": spec,
        "filters": filters,
        "values": params,
        "columns": spec.domain_spec.content_fields(),
        "sortable": set(spec.domain_spec.sortable_fields()),
        "sort": sort,
        "page": page,
        "errors": errors,
        "crm_configured": _crm_configured(request),
    }
    return render(request, "crm/list.html", context, status_code=filter_status(request, errors))


@router.get("/crm/accounts", include_in_schema=False)
def accounts(
    request: Request, session: SessionDep, settings: SettingsDep, _: StaffPage
) -> Response:
    return _list_page("accounts", request, session, settings)


@router.get("/crm/contacts", include_in_schema=False)
def contacts(
    request: Request, session: SessionDep, settings: SettingsDep, _: StaffPage
) -> Response:
    return _list_page("contacts", request, session, settings)


@router.get("/crm/deals", include_in_schema=False)
def deals(request: Request, session: SessionDep, settings: SettingsDep, _: StaffPage) -> Response:
    return _list_page("deals", request, session, settings)


def _domains(domain: str) -> CrmSyncRequest:
    if domain == "all":
        return CrmSyncRequest()
    return CrmSyncRequest(domains=[CrmDomain(domain)])


DomainForm = Annotated[typing.Literal["all", "accounts", "contacts", "deals"], Form()]


@router.post("/crm/extract", include_in_schema=False)
def extract(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: CrmWriterPage,
    domain: DomainForm = "all",
) -> HTMLResponse:
    """Pull from the CRM now; the page shows what each domain's extract did."""
    with sync.required_connector(settings) as connector:
        report = sync.extract_domains(session, settings, connector, _domains(domain))
    return render(request, "crm/sync_result.html", {"action": "extract", "extract": report})


@router.post("/crm/push", include_in_schema=False)
def push(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: CrmWriterPage,
    domain: DomainForm = "all",
) -> HTMLResponse:
    with sync.required_connector(settings) as connector:
        pushed = sync.push_domains(session, settings, connector, _domains(domain))
    return render(request, "crm/sync_result.html", {"action": "push", "pushed": pushed})


@router.get("/crm/aggregations", include_in_schema=False)
def aggregations(request: Request, session: SessionDep, _: StaffPage) -> Response:
    names = ("kind", "account_id", "date_from", "date_to")
    params = {k: v.strip() for k, v in request.query_params.items() if k in names and v.strip()}
    params.setdefault("kind", AggregationKind.MONTHLY.value)
    errors = FormErrors()
    periods = []
    try:
        periods = reports.period_totals(session, DealAggregationQuery.model_validate(params))
    except ValidationError as exc:
        errors = errors_of(exc, strip=("query",))
    chart = {
        "labels": [p.period.isoformat() for p in periods],
        "totals": [str(p.total_deal_size) for p in periods],
        "deals": [p.deals for p in periods],
    }
    context = {
        "kinds": [kind.value for kind in AggregationKind],
        "values": params,
        "periods": periods,
        "chart_json": json.dumps(chart),
        "errors": errors,
        "computed": request.query_params.get("computed"),
    }
    return render(
        request, "crm/aggregations.html", context, status_code=filter_status(request, errors)
    )


@router.post("/crm/aggregations/compute", include_in_schema=False)
def compute_aggregations(session: SessionDep, _: CrmWriterPage) -> Response:
    """Recompute every kind from the deals (as POST /api/reports/deal-aggregations/compute)."""
    summaries = reports.compute(session, list(AggregationKind))
    rows = sum(summary.rows for summary in summaries)
    return RedirectResponse(f"/crm/aggregations?computed={rows}", status_code=303)
