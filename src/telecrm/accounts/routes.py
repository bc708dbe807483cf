from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from telecrm.accounts.schemas import AccountCreate, AccountQuery, AccountRead, AccountUpdate
from telecrm.accounts.service import AccountService
from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import get_app_settings
from telecrm.auth.service import Principal
from telecrm.config import Settings
from telecrm.crm.connector import CrmConnector
from telecrm.crm.dependencies import crm_connector, crm_reader, crm_writer
from telecrm.crm.schemas import Page
from telecrm.db import IntId
from telecrm.dependencies import SessionDep

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get("", response_model=Page[AccountRead])
def list_accounts(
    session: SessionDep,
    query: Annotated[AccountQuery, Query()],
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> Page[AccountRead]:
    return AccountService(session, settings).list_page(query)


@router.get("/{account_id}", response_model=AccountRead)
def get_account(
    session: SessionDep,
    account_id: IntId,
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> AccountRead:
    return AccountRead.model_validate(AccountService(session, settings).get(account_id))


@router.post(
    "",
    response_model=AccountRead,
    status_code=201,
    responses=error_responses(409, 502),
)
def create_account(
    session: SessionDep,
    body: AccountCreate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> AccountRead:
    return AccountRead.model_validate(AccountService(session, settings, connector).create(body))


@router.patch(
    "/{account_id}",
    response_model=AccountRead,
    responses=error_responses(409, 502),
)
def update_account(
    session: SessionDep,
    account_id: IntId,
    body: AccountUpdate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> AccountRead:
    account = AccountService(session, settings, connector).update(account_id, body)
    return AccountRead.model_validate(account)


@router.delete(
    "/{account_id}", status_code=204, response_class=Response, responses=error_responses(409, 502)
)
def delete_account(
    session: SessionDep,
    account_id: IntId,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> None:
    AccountService(session, settings, connector).delete(account_id)
