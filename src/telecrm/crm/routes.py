"""The HTTP routes of a CRM domain (accounts, contacts, deals), written once: list,
read, create, update and delete by the business key. Each domain names its service
and schemas; the operations keep the names a hand-written module would give them
(``list_accounts``, ``get_account`` ...), so their operation ids and summaries are
the domain's own.

No ``from __future__ import annotations``: the endpoints' annotations name the
factory's arguments, so they must be evaluated where they are written."""

import inspect
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from telecrm.api_errors import error_responses
from telecrm.crm import sync
from telecrm.crm.dependencies import CrmConnectorDep, CrmReader, CrmWriter
from telecrm.crm.schemas import CrmSyncRequest, Page, PushOutcome
from telecrm.crm.service_base import CrmDomainSpec, CrmService
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import (
    AppError,
    CrmChangesNotExtracted,
    CrmNotConfigured,
    CrmRecordExists,
    CrmRecordNotFound,
    ExternalServiceError,
)


def _with_key(endpoint: Callable[..., Any], key_field: str, key_type: Any) -> Callable[..., Any]:
    """The endpoint with its ``key`` parameter renamed to the path's ``{key_field}``:
    FastAPI reads the parameters from the signature."""
    signature = inspect.signature(endpoint)
    parameters = [
        parameter.replace(name=key_field, annotation=key_type)
        if parameter.name == "key"
        else parameter
        for parameter in signature.parameters.values()
    ]

    def with_named_key(**values: Any) -> Any:
        values["key"] = values.pop(key_field)
        return endpoint(**values)

    with_named_key.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return with_named_key


def crm_router(
    spec: CrmDomainSpec,
    *,
    key_type: Any,
    create: type[BaseModel],
    update: type[BaseModel],
    query: type[BaseModel],
    delete_refusals: tuple[type[AppError], ...] = (),
) -> APIRouter:
    """``/api/{domain}`` of the spec's domain: ``GET`` a page (``query``'s filters) and
    ``GET``, ``POST``, ``PATCH``, ``DELETE`` ``/{key_field}``, served by the domain's
    ``CrmService``; reads go without the CRM, writes through it. ``delete_refusals``:
    the domain's own reasons to keep a record."""
    plural, noun, key_field, read = spec.domain.value, spec.noun, spec.key_field, spec.read_model
    service = partial(CrmService, spec)
    router = APIRouter(prefix=f"/api/{plural}", tags=[plural])
    item = f"/{{{key_field}}}"

    def list_records(
        session: SessionDep,
        query: Annotated[query, Query()],  # type: ignore[valid-type]
        _: CrmReader,
        settings: SettingsDep,
    ) -> Any:
        return service(session, settings).list_page(query)

    def get_record(
        session: SessionDep,
        key: Any,
        _: CrmReader,
        settings: SettingsDep,
    ) -> Any:
        return read.model_validate(service(session, settings).get(key))

    def create_record(
        session: SessionDep,
        body: create,  # type: ignore[valid-type]
        _: CrmWriter,
        settings: SettingsDep,
        connector: CrmConnectorDep,
    ) -> Any:
        return read.model_validate(service(session, settings, connector).create(body))

    def update_record(
        session: SessionDep,
        key: Any,
        body: update,  # type: ignore[valid-type]
        _: CrmWriter,
        settings: SettingsDep,
        connector: CrmConnectorDep,
    ) -> Any:
        return read.model_validate(service(session, settings, connector).update(key, body))

    def delete_record(
        session: SessionDep,
        key: Any,
        _: CrmWriter,
        settings: SettingsDep,
        connector: CrmConnectorDep,
    ) -> None:
        service(session, settings, connector).delete(key)

    router.add_api_route(
        "",
        list_records,
        methods=["GET"],
        name=f"list_{plural}",
        response_model=Page[read],  # type: ignore[valid-type]
    )
    router.add_api_route(
        item,
        _with_key(get_record, key_field, key_type),
        methods=["GET"],
        name=f"get_{noun}",
        response_model=read,
        responses=error_responses(CrmRecordNotFound),
    )
    router.add_api_route(
        "",
        create_record,
        methods=["POST"],
        name=f"create_{noun}",
        response_model=read,
        status_code=201,
        responses=error_responses(CrmRecordExists, ExternalServiceError),
    )
    router.add_api_route(
        item,
        _with_key(update_record, key_field, key_type),
        methods=["PATCH"],
        name=f"update_{noun}",
        response_model=read,
        responses=error_responses(CrmRecordNotFound, CrmChangesNotExtracted, ExternalServiceError),
    )
    router.add_api_route(
        item,
        _with_key(delete_record, key_field, key_type),
        methods=["DELETE"],
        name=f"delete_{noun}",
        status_code=204,
        response_class=Response,
        responses=error_responses(CrmRecordNotFound, *delete_refusals, ExternalServiceError),
    )
    return router


# The sync with the external CRM, as `telecrm crm extract` and `telecrm crm push` do it
# (without the export files): sales and admin.
sync_router = APIRouter(prefix="/api/crm", tags=["crm sync"])


@sync_router.post(
    "/extract",
    response_model=sync.ExtractReport,
    responses=error_responses(CrmNotConfigured, ExternalServiceError),
)
def extract(
    session: SessionDep,
    _: CrmWriter,
    settings: SettingsDep,
    body: CrmSyncRequest | None = None,
) -> sync.ExtractReport:
    """Pull the domains from the CRM, clean them, save what changed, and recompute
    the deal aggregations when deals were pulled; the outcome of each domain."""
    with sync.required_connector(settings) as connector:
        return sync.extract_domains(session, settings, connector, body or CrmSyncRequest())


@sync_router.post(
    "/push",
    response_model=list[PushOutcome],
    responses=error_responses(CrmNotConfigured, ExternalServiceError),
)
def push(
    session: SessionDep,
    _: CrmWriter,
    settings: SettingsDep,
    body: CrmSyncRequest | None = None,
) -> list[PushOutcome]:
    """Write again to the CRM the local changes it did not take (marked pending)."""
    with sync.required_connector(settings) as connector:
        return sync.push_domains(session, settings, connector, body or CrmSyncRequest())
