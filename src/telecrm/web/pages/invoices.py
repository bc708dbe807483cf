"""Invoices for staff (generate a month, list by status, an invoice's page, send,
approve, PDF) and for the customer portal (its own invoices, PDF, request payment).
The same services as ``/api/invoices``, scoped the same way: a customer's URL for
another contract's invoice is a 404, as in the API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.contracts import service as contracts_service
from telecrm.contracts.scope import ContractScope
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import AppError
from telecrm.invoices import service
from telecrm.invoices.models import InvoiceStatus
from telecrm.invoices.schemas import GenerateRequest, InvoiceDetail, InvoiceRead
from telecrm.invoices.service import Transition
from telecrm.web.dependencies import AdminPage, BillingPage, CustomerPage, page_require
from telecrm.web.forms import parse
from telecrm.web.templating import render

router = APIRouter()

# As GET /api/invoices for staff; a customer reads its invoices under /portal.
InvoiceReader = Annotated[Principal, Depends(page_require(Role.BILLING, Role.SALES, Role.VIEWER))]
PAGE_SIZE = 50


def _last_month(settings: Any) -> tuple[int, int]:
    today = dt.datetime.now(settings.tz).date()
    previous = today.replace(day=1) - dt.timedelta(days=1)
    return previous.year, previous.month


def _list_context(
    session: Any,
    principal: Principal,
    settings: Any,
    status: InvoiceStatus | None,
    after_id: int | None,
    contract_id: int | None = None,
    period: str | None = None,
) -> dict[str, Any]:
    year, month = (int(part) for part in period.split("-")) if period else (None, None)
    found = service.list_invoices(
        session,
        ContractScope.of(principal),
        settings.tz,
        year=year,
        month=month,
        status=status,
        contract_id=contract_id,
        after_id=after_id,
        limit=PAGE_SIZE + 1,
    )
    invoices = [InvoiceRead.model_validate(invoice) for invoice in found[:PAGE_SIZE]]
    return {
        "invoices": invoices,
        "status": status.value if status else "",
        "statuses": list(InvoiceStatus),
        "period": period or "",
        "contract_id": contract_id or "",
        "next_after": invoices[-1].id if len(found) > PAGE_SIZE else None,
    }


Period = Annotated[str | None, Query(pattern=r"^(20\d\d-(0[1-9]|1[0-2]))?$")]


@router.get("/invoices", include_in_schema=False)
def invoices(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: InvoiceReader,
    status: InvoiceStatus | None = None,
    period: Period = None,
    contract_id: IntId | None = None,
    after_id: IntId | None = None,
) -> HTMLResponse:
    context = _list_context(
        session, principal, settings, status, after_id, contract_id, period or None
    )
    year, month = _last_month(settings)
    context.update(generate_values={"year": year, "month": month}, generated=None, error=None)
    if request.headers.get("HX-Request"):
        return render(request, "invoices/table.html", context)
    return render(request, "invoices/list.html", context)


@router.post("/invoices/generate", include_in_schema=False)
def generate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: BillingPage,
    year: Annotated[str, Form(max_length=4)] = "",
    month: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    """As ``POST /api/invoices/generate``: the month's drafts, generated again."""
    values = {"year": year, "month": month}
    data, errors = parse(GenerateRequest, {k: v for k, v in values.items() if v})
    generated, error, status_code = None, None, 200
    if data is None:
        error = "; ".join(f"{name}: {message}" for name, message in errors.items())
        status_code = 422
    else:
        try:
            generated = service.generate(session, data.year, data.month, settings)
        except AppError as exc:
            session.rollback()
            error, status_code = exc.message, exc.status_code
    period = f"{data.year}-{data.month:02d}" if data and generated else None
    context = _list_context(session, principal, settings, None, None, None, period)
    context.update(generate_values=values, generated=generated, error=error)
    return render(request, "invoices/list.html", context, status_code)


def _invoice_page(
    request: Request,
    session: Any,
    principal: Principal,
    invoice_id: int,
    portal: bool,
    refusal: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    invoice, lines = service.invoice_with_lines(session, ContractScope.of(principal), invoice_id)
    contract = contracts_service.get_contract(
        session, ContractScope.of(principal), invoice.contract_id
    )
    context = {
        "invoice": InvoiceDetail.of(invoice, lines),
        "contract": contract,
        "portal": portal,
        "base": "/portal/invoices" if portal else "/invoices",
        "refusal": refusal,
    }
    return render(request, "invoices/detail.html", context, status_code)


@router.get("/invoices/{invoice_id}", include_in_schema=False)
def invoice(
    request: Request, session: SessionDep, invoice_id: IntId, principal: InvoiceReader
) -> HTMLResponse:
    return _invoice_page(request, session, principal, invoice_id, portal=False)


def _pdf(session: Any, principal: Principal, invoice_id: int, settings: Any) -> Response:
    invoice, content = service.invoice_pdf(
        session, ContractScope.of(principal), invoice_id, settings
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.invoice_number}.pdf"'},
    )


@router.get("/invoices/{invoice_id}/pdf", include_in_schema=False)
def invoice_pdf(
    session: SessionDep, settings: SettingsDep, invoice_id: IntId, principal: InvoiceReader
) -> Response:
    return _pdf(session, principal, invoice_id, settings)


def _move(
    request: Request,
    session: Any,
    principal: Principal,
    invoice_id: int,
    step: Transition,
    portal: bool,
) -> Response:
    """One step of the status flow; a refusal (409) is shown on the invoice's page."""
    try:
        service.transition(session, ContractScope.of(principal), invoice_id, step)
    except AppError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        return _invoice_page(
            request, session, principal, invoice_id, portal, exc.message, exc.status_code
        )
    base = "/portal/invoices" if portal else "/invoices"
    return RedirectResponse(f"{base}/{invoice_id}", status_code=303)


@router.post("/invoices/{invoice_id}/send", include_in_schema=False)
def send(
    request: Request, session: SessionDep, invoice_id: IntId, principal: BillingPage
) -> Response:
    return _move(request, session, principal, invoice_id, Transition.SEND, portal=False)


@router.post("/invoices/{invoice_id}/approve", include_in_schema=False)
def approve(
    request: Request, session: SessionDep, invoice_id: IntId, principal: AdminPage
) -> Response:
    return _move(request, session, principal, invoice_id, Transition.APPROVE, portal=False)


# --- the customer portal ---------------------------------------------------------------


@router.get("/portal/invoices", include_in_schema=False)
def portal_invoices(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CustomerPage,
    status: InvoiceStatus | None = None,
    after_id: IntId | None = None,
) -> HTMLResponse:
    context = _list_context(session, principal, settings, status, after_id)
    return render(request, "invoices/portal_list.html", context)


@router.get("/portal/invoices/{invoice_id}", include_in_schema=False)
def portal_invoice(
    request: Request, session: SessionDep, invoice_id: IntId, principal: CustomerPage
) -> HTMLResponse:
    return _invoice_page(request, session, principal, invoice_id, portal=True)


@router.get("/portal/invoices/{invoice_id}/pdf", include_in_schema=False)
def portal_invoice_pdf(
    session: SessionDep, settings: SettingsDep, invoice_id: IntId, principal: CustomerPage
) -> Response:
    return _pdf(session, principal, invoice_id, settings)


@router.post("/portal/invoices/{invoice_id}/request-payment", include_in_schema=False)
def request_payment(
    request: Request, session: SessionDep, invoice_id: IntId, principal: CustomerPage
) -> Response:
    return _move(request, session, principal, invoice_id, Transition.REQUEST_PAYMENT, portal=True)
