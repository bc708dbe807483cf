"""Contracts: list and search, create and edit (errors by the field), a contract's page
with its customer users. The same services as ``/api/contracts`` and ``/api/users``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telecrm.auth import service as auth_service
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.contracts import service
from telecrm.contracts.models import Contract, ContractStatus
from telecrm.contracts.schemas import ContractCreate, ContractUpdate
from telecrm.contracts.scope import EVERYTHING
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import AppError
from telecrm.money import CURRENCY_EXPONENTS
from telecrm.rates import service as rates_service
from telecrm.web.dependencies import AdminPage, BillingPage, page_require
from telecrm.web.forms import FORM, FieldErrors, form_values, parse, refusal_errors
from telecrm.web.permissions import may
from telecrm.web.templating import render

router = APIRouter()

# As GET /api/contracts: staff (a customer sees its own contract in the portal).
ContractReader = Annotated[Principal, Depends(page_require(Role.BILLING, Role.SALES, Role.VIEWER))]
PAGE_SIZE = 50
FIELDS = (
    "company_name",
    "accountcode",
    "contact_person",
    "email",
    "phone",
    "address",
    "status",
    "rate_group_id",
    "currency",
    "tax_rate",
    "payment_terms_days",
    "account_id",
)
OPTIONAL_FIELDS = ("contact_person", "email", "phone", "address", "account_id")


@router.get("/contracts", include_in_schema=False)
def contracts(
    request: Request,
    session: SessionDep,
    _: ContractReader,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: ContractStatus | None = None,
    after_id: IntId | None = None,
) -> HTMLResponse:
    found = service.list_contracts(
        session,
        EVERYTHING,
        status=status,
        search=search or None,
        after_id=after_id,
        limit=PAGE_SIZE + 1,
    )
    rows = list(found[:PAGE_SIZE])
    context = {
        "contracts": rows,
        "groups": {group.id: group.name for group in rates_service.list_groups(session)},
        "search": search or "",
        "status": status.value if status else "",
        "statuses": list(ContractStatus),
        "next_after": rows[-1].id if len(found) > PAGE_SIZE else None,
    }
    template = (
        "contracts/table.html" if request.headers.get("HX-Request") else "contracts/list.html"
    )
    return render(request, template, context)


def _form_page(
    request: Request,
    session: Any,
    values: dict[str, Any],
    errors: FieldErrors,
    contract: Contract | None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "values": values,
        "errors": errors,
        "form_error": errors.get(FORM),
        "contract": contract,
        "group_options": [(g.id, g.name) for g in rates_service.list_groups(session)],
        "status_options": [(s.value, s.value) for s in ContractStatus],
        "currency_options": [(code, code) for code in sorted(CURRENCY_EXPONENTS)],
    }
    return render(request, "contracts/form.html", context, status_code)


def _values_of(contract: Contract) -> dict[str, Any]:
    return {
        name: "" if getattr(contract, name) is None else getattr(contract, name) for name in FIELDS
    }


@router.get("/contracts/new", include_in_schema=False)
def new_contract(request: Request, session: SessionDep, _: BillingPage) -> HTMLResponse:
    defaults = {"status": "active", "currency": "IDR", "tax_rate": "0", "payment_terms_days": "30"}
    return _form_page(request, session, defaults, {}, None)


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


@router.post("/contracts/new", include_in_schema=False)
async def create_contract(request: Request, session: SessionDep, _: BillingPage) -> Response:
    posted = await _posted(request)
    data, errors = parse(ContractCreate, form_values(posted, FIELDS))
    if data is None:
        return _form_page(request, session, posted, errors, None, 422)
    try:
        contract = service.create_contract(session, data)
    except AppError as exc:
        session.rollback()
        return _form_page(
            request, session, posted, refusal_errors(exc, FIELDS), None, exc.status_code
        )
    return RedirectResponse(f"/contracts/{contract.id}", status_code=303)


@router.get("/contracts/{contract_id}", include_in_schema=False)
def contract_page(
    request: Request, session: SessionDep, contract_id: IntId, principal: ContractReader
) -> HTMLResponse:
    contract = service.get_contract(session, EVERYTHING, contract_id)
    may_list_users = may(request.app, principal.role, "GET", "/api/users")
    context = {
        "contract": contract,
        "group": rates_service.get_group(session, contract.rate_group_id),
        "users": auth_service.list_users(session, contract.id) if may_list_users else None,
        "user_error": None,
        "user_email": "",
    }
    return render(request, "contracts/detail.html", context)


@router.get("/contracts/{contract_id}/edit", include_in_schema=False)
def edit_contract(
    request: Request, session: SessionDep, contract_id: IntId, _: BillingPage
) -> HTMLResponse:
    contract = service.get_contract(session, EVERYTHING, contract_id)
    return _form_page(request, session, _values_of(contract), {}, contract)


@router.post("/contracts/{contract_id}/edit", include_in_schema=False)
async def update_contract(
    request: Request, session: SessionDep, contract_id: IntId, _: BillingPage
) -> Response:
    contract = service.get_contract(session, EVERYTHING, contract_id)
    posted = await _posted(request)
    values: dict[str, Any] = form_values(posted, FIELDS)
    # A field emptied on the form is cleared (the service refuses it for a required one).
    values.update({name: None for name in FIELDS if name not in values})
    data, errors = parse(ContractUpdate, values)
    if data is None:
        return _form_page(request, session, posted, errors, contract, 422)
    try:
        service.update_contract(session, contract_id, data)
    except AppError as exc:
        session.rollback()
        contract = service.get_contract(session, EVERYTHING, contract_id)
        errors = refusal_errors(exc, FIELDS)
        return _form_page(request, session, posted, errors, contract, exc.status_code)
    return RedirectResponse(f"/contracts/{contract_id}", status_code=303)


@router.post("/contracts/{contract_id}/users", include_in_schema=False)
def add_customer_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contract_id: IntId,
    _: AdminPage,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """As ``POST /api/users`` with role customer and this contract's account code."""
    contract = service.get_contract(session, EVERYTHING, contract_id)
    try:
        auth_service.create_user(
            session, email, password, Role.CUSTOMER, settings, contract=contract.accountcode
        )
    except AppError as exc:
        session.rollback()
        contract = service.get_contract(session, EVERYTHING, contract_id)
        context = {
            "contract": contract,
            "group": rates_service.get_group(session, contract.rate_group_id),
            "users": auth_service.list_users(session, contract.id),
            "user_error": exc.message,
            "user_email": email,
        }
        return render(request, "contracts/detail.html", context, exc.status_code)
    return RedirectResponse(f"/contracts/{contract_id}#users", status_code=303)
