from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import get_app_settings
from telecrm.auth.service import Principal
from telecrm.config import Settings
from telecrm.contacts.schemas import ContactCreate, ContactQuery, ContactRead, ContactUpdate
from telecrm.contacts.service import ContactService
from telecrm.crm.connector import CrmConnector
from telecrm.crm.dependencies import crm_connector, crm_reader, crm_writer
from telecrm.crm.schemas import Page
from telecrm.dependencies import SessionDep

router = APIRouter(prefix="/api/contacts", tags=["contacts"])


@router.get("", response_model=Page[ContactRead])
def list_contacts(
    session: SessionDep,
    query: Annotated[ContactQuery, Query()],
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> Page[ContactRead]:
    return ContactService(session, settings).list_page(query)


@router.get("/{contact_id}", response_model=ContactRead)
def get_contact(
    session: SessionDep,
    contact_id: str,
    _: Principal = Depends(crm_reader),
    settings: Settings = Depends(get_app_settings),
) -> ContactRead:
    return ContactRead.model_validate(ContactService(session, settings).get(contact_id))


@router.post(
    "",
    response_model=ContactRead,
    status_code=201,
    responses=error_responses(409, 502),
)
def create_contact(
    session: SessionDep,
    body: ContactCreate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> ContactRead:
    return ContactRead.model_validate(ContactService(session, settings, connector).create(body))


@router.patch(
    "/{contact_id}",
    response_model=ContactRead,
    responses=error_responses(409, 502),
)
def update_contact(
    session: SessionDep,
    contact_id: str,
    body: ContactUpdate,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> ContactRead:
    contact = ContactService(session, settings, connector).update(contact_id, body)
    return ContactRead.model_validate(contact)


@router.delete(
    "/{contact_id}", status_code=204, response_class=Response, responses=error_responses(409, 502)
)
def delete_contact(
    session: SessionDep,
    contact_id: str,
    _: Principal = Depends(crm_writer),
    settings: Settings = Depends(get_app_settings),
    connector: CrmConnector | None = Depends(crm_connector),
) -> None:
    ContactService(session, settings, connector).delete(contact_id)
