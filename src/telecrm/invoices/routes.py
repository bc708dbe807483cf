from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import AdminPrincipal, BillingPrincipal, require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.contracts.scope import ContractScope
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import InvoiceCallsChanged, InvoiceNotFound, InvoiceStatusConflict
from telecrm.invoices import service
from telecrm.invoices.models import InvoiceStatus
from telecrm.invoices.schemas import (
    GenerateRequest,
    GenerateSummary,
    InvoiceDetail,
    InvoiceRead,
)
from telecrm.invoices.service import Transition

router = APIRouter(prefix="/api", tags=["invoices"])

# A customer reads its own contract's invoices only; see ContractScope.
ReadAccess = Annotated[
    Principal, Depends(require(Role.BILLING, Role.SALES, Role.VIEWER, Role.CUSTOMER))
]


@router.get("/invoices", response_model=list[InvoiceRead])
def list_invoices(
    session: SessionDep,
    principal: ReadAccess,
    settings: SettingsDep,
    year: int | None = Query(default=None, ge=2000, le=2100),
    month: int | None = Query(default=None, ge=1, le=12),
    status: InvoiceStatus | None = None,
    contract_id: IntId | None = None,
    after_id: IntId | None = Query(default=None, description="Keyset: invoices after this id."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[InvoiceRead]:
    invoices = service.list_invoices(
        session,
        ContractScope.of(principal),
        settings.tz,
        year=year,
        month=month,
        status=status,
        contract_id=contract_id,
        after_id=after_id,
        limit=limit,
    )
    return [InvoiceRead.model_validate(invoice) for invoice in invoices]


@router.post(
    "/invoices/generate",
    response_model=GenerateSummary,
    summary="Generate the month's draft invoices",
    description="As `telecrm invoices generate`: drafts are generated again, invoices that "
    "were sent are never touched.",
)
def generate_invoices(
    session: SessionDep,
    body: GenerateRequest,
    _: BillingPrincipal,
    settings: SettingsDep,
) -> GenerateSummary:
    return service.generate(session, body.year, body.month, settings)


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceDetail,
    responses=error_responses(InvoiceNotFound),
)
def get_invoice(session: SessionDep, invoice_id: IntId, principal: ReadAccess) -> InvoiceDetail:
    invoice, lines = service.invoice_with_lines(session, ContractScope.of(principal), invoice_id)
    return InvoiceDetail.of(invoice, lines)


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The invoice as PDF."},
        **error_responses(InvoiceNotFound),
    },
)
def get_invoice_pdf(
    session: SessionDep,
    invoice_id: IntId,
    principal: ReadAccess,
    settings: SettingsDep,
) -> Response:
    invoice, content = service.invoice_pdf(
        session, ContractScope.of(principal), invoice_id, settings
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.invoice_number}.pdf"'},
    )


def _transition(
    session: SessionDep, principal: Principal, invoice_id: int, step: Transition
) -> InvoiceRead:
    invoice = service.transition(session, ContractScope.of(principal), invoice_id, step)
    return InvoiceRead.model_validate(invoice)


@router.post(
    "/invoices/{invoice_id}/send",
    response_model=InvoiceRead,
    summary="draft -> sent",
    responses=error_responses(InvoiceNotFound, InvoiceStatusConflict, InvoiceCallsChanged),
)
def send_invoice(
    session: SessionDep, invoice_id: IntId, principal: BillingPrincipal
) -> InvoiceRead:
    return _transition(session, principal, invoice_id, Transition.SEND)


@router.post(
    "/invoices/{invoice_id}/request-payment",
    response_model=InvoiceRead,
    summary="sent -> pending_approval (the customer says it paid)",
    responses=error_responses(InvoiceNotFound, InvoiceStatusConflict),
)
def request_payment(
    session: SessionDep,
    invoice_id: IntId,
    principal: Annotated[Principal, Depends(require(Role.CUSTOMER))],
) -> InvoiceRead:
    return _transition(session, principal, invoice_id, Transition.REQUEST_PAYMENT)


@router.post(
    "/invoices/{invoice_id}/approve",
    response_model=InvoiceRead,
    summary="pending_approval -> paid (an admin confirms the payment)",
    responses=error_responses(InvoiceNotFound, InvoiceStatusConflict),
)
def approve_payment(
    session: SessionDep, invoice_id: IntId, principal: AdminPrincipal
) -> InvoiceRead:
    return _transition(session, principal, invoice_id, Transition.APPROVE)
