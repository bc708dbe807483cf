from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import BillingPrincipal, require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.contracts import service
from telecrm.contracts.models import ContractStatus
from telecrm.contracts.schemas import ContractCreate, ContractRead, ContractUpdate
from telecrm.contracts.scope import ContractScope
from telecrm.db import IntId
from telecrm.dependencies import SessionDep
from telecrm.errors import AccountcodeInUse, AccountcodeTaken, ContractInUse, ContractNotFound

router = APIRouter(prefix="/api", tags=["contracts"])

# A customer reads its own contract only; see ContractScope.
ReadAccess = Annotated[
    Principal, Depends(require(Role.BILLING, Role.SALES, Role.VIEWER, Role.CUSTOMER))
]


@router.get("/contracts", response_model=list[ContractRead])
def list_contracts(
    session: SessionDep,
    principal: ReadAccess,
    status: ContractStatus | None = None,
    rate_group_id: IntId | None = None,
    search: str | None = Query(default=None, description="In the company name or accountcode."),
    after_id: IntId | None = Query(default=None, description="Keyset: contracts after this id."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[ContractRead]:
    contracts = service.list_contracts(
        session,
        ContractScope.of(principal),
        status=status,
        rate_group_id=rate_group_id,
        search=search,
        after_id=after_id,
        limit=limit,
    )
    return [ContractRead.model_validate(contract) for contract in contracts]


@router.post(
    "/contracts",
    response_model=ContractRead,
    status_code=201,
    responses=error_responses(AccountcodeTaken),
)
def create_contract(session: SessionDep, body: ContractCreate, _: BillingPrincipal) -> ContractRead:
    return ContractRead.model_validate(service.create_contract(session, body))


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractRead,
    responses=error_responses(ContractNotFound),
)
def get_contract(session: SessionDep, contract_id: IntId, principal: ReadAccess) -> ContractRead:
    contract = service.get_contract(session, ContractScope.of(principal), contract_id)
    return ContractRead.model_validate(contract)


@router.patch(
    "/contracts/{contract_id}",
    response_model=ContractRead,
    responses=error_responses(ContractNotFound, AccountcodeTaken, AccountcodeInUse),
)
def update_contract(
    session: SessionDep,
    contract_id: IntId,
    body: ContractUpdate,
    _: BillingPrincipal,
) -> ContractRead:
    return ContractRead.model_validate(service.update_contract(session, contract_id, body))


@router.delete(
    "/contracts/{contract_id}",
    status_code=204,
    responses=error_responses(ContractNotFound, ContractInUse),
)
def delete_contract(session: SessionDep, contract_id: IntId, _: BillingPrincipal) -> Response:
    service.delete_contract(session, contract_id)
    return Response(status_code=204)
