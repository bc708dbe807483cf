from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import get_app_settings
from telecrm.auth.service import Principal
from telecrm.config import Settings
from telecrm.crm.connector import CrmConnector
from telecrm.crm.dependencies import crm_connector, crm_reader, crm_writer
from telecrm.crm.schemas import Page
from telecrm.db import IntId
from telecrm.deals.schemas import DealCreate, DealQuery, DealRead, DealUpdate
from telecrm.deals.service import DealService
from telecrm.dependencies import SessionDep

router = APIRouter(prefix="/api/deals", tags=["deals"])


@router.get("", response_model=Page[DealRead])
def list_deals(
    session: SessionDep,
    query: Annotated[DealQuery, Query()],
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> Page[DealRead]:
    return DealService(session, settings).list_page(query)


@router.get("/{deal_id}", response_model=DealRead)
def get_deal(
    session: SessionDep,
    deal_id: IntId,
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> DealRead:
    return DealRead.model_validate(DealService(session, settings).get(deal_id))


@router.post(
    "",
    response_model=DealRead,
    status_code=201,
    responses=error_responses(409, 502),
)
def create_deal(
    session: SessionDep,
    body: DealCreate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> DealRead:
    return DealRead.model_validate(DealService(session, settings, connector).create(body))


@router.patch(
    "/{deal_id}",
    response_model=DealRead,
    responses=error_responses(409, 502),
)
def update_deal(
    session: SessionDep,
    deal_id: IntId,
    body: DealUpdate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> DealRead:
    deal = DealService(session, settings, connector).update(deal_id, body)
    return DealRead.model_validate(deal)


@router.delete(
    "/{deal_id}", status_code=204, response_class=Response, responses=error_responses(409, 502)
)
def delete_deal(
    session: SessionDep,
    deal_id: IntId,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> None:
    DealService(session, settings, connector).delete(deal_id)
