"""CDR sources: the list, a source with its fetch runs and "fetch now", and the forms
to add and change one. The same services as ``/api/cdr-sources`` (billing and admin;
the type decides who may manage it). The database password is write-only: never
rendered back; an empty field keeps it; changing where the source connects drops it
unless it is given again (the service's rule)."""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telecrm.auth.service import Principal
from telecrm.cdrs.sources import service
from telecrm.cdrs.sources.models import CdrSource, CdrSourceType
from telecrm.cdrs.sources.schemas import PARAMS_MODELS, CdrSourceCreate, CdrSourceUpdate
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import Conflict, SourceNameTaken, ValidationFailed
from telecrm.web.dependencies import BillingPage
from telecrm.web.forms import FormErrors, form_values, refused
from telecrm.web.templating import render

router = APIRouter()

RUNS_PAGE = 25


@dataclass(frozen=True)
class ParamField:
    """One parameter of a source type, as a form field."""

    name: str
    label: str
    required: bool
    help: str | None
    choices: tuple[str, ...]
    numeric: bool


def param_fields(source_type: CdrSourceType) -> list[ParamField]:
    fields = []
    for name, info in PARAMS_MODELS[source_type].model_fields.items():
        annotation = info.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        kind = args[0] if len(args) == 1 else annotation
        choices: tuple[str, ...] = ()
        if typing.get_origin(kind) is typing.Literal:
            choices = tuple(str(value) for value in typing.get_args(kind))
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            choices = tuple(str(member.value) for member in kind)
        default = info.default if info.default not in (None, ...) else None
        help_text = info.description or ""
        if default is not None:
            help_text = f"{help_text} Default: {default}.".strip()
        fields.append(
            ParamField(
                name=name,
                label=name.replace("_", " ").capitalize(),
                required=info.is_required(),
                help=help_text or None,
                choices=choices,
                numeric=kind is int,
            )
        )
    return fields


def manageable_types(principal: Principal) -> list[CdrSourceType]:
    return [t for t, roles in service.MANAGERS.items() if principal.role in roles]


def _form_context(
    source_type: CdrSourceType,
    principal: Principal,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    source: CdrSource | None = None,
) -> dict[str, Any]:
    return {
        "source_type": source_type,
        "fields": param_fields(source_type),
        "has_password_field": source_type in service.TYPES_WITH_PASSWORD,
        "connection_params": service.CONNECTION_PARAMS,
        "values": values,
        "errors": errors or FormErrors(),
        "source": source,
        "may_manage": principal.role in service.MANAGERS[source_type],
    }


@router.get("/sources", include_in_schema=False)
def list_sources(request: Request, session: SessionDep, principal: BillingPage) -> HTMLResponse:
    sources = [service.read_model(source) for source in service.list_sources(session)]
    context = {"sources": sources, "types": manageable_types(principal)}
    return render(request, "sources/list.html", context)


@router.get("/sources/new", include_in_schema=False)
def new_source(
    request: Request, principal: BillingPage, type: CdrSourceType | None = None
) -> HTMLResponse:
    if type is None:
        return render(request, "sources/choose_type.html", {"types": manageable_types(principal)})
    values = {"enabled": True}
    return render(request, "sources/form.html", _form_context(type, principal, values))


def _status(exc: ValidationError | Exception) -> int:
    return exc.status_code if isinstance(exc, Conflict) else 422


@router.post("/sources", include_in_schema=False)
async def create_source(
    request: Request, session: SessionDep, settings: SettingsDep, principal: BillingPage
) -> Response:
    form = await request.form()
    try:
        source_type = CdrSourceType(str(form.get("type", "")))
    except ValueError:
        return RedirectResponse("/sources/new", status_code=303)
    names = [f.name for f in param_fields(source_type)]
    params = form_values(form, names)
    text = form_values(form, ["name", "password"])
    values: dict[str, Any] = {**params, "name": text.get("name", ""), "enabled": "enabled" in form}
    try:
        body = CdrSourceCreate.model_validate(
            {
                "name": text.get("name", ""),
                "type": source_type,
                "enabled": "enabled" in form,
                "params": params,
                "password": text.get("password"),
            }
        )
        source = service.create_source(session, body, settings, principal.role)
    except (ValidationError, ValidationFailed, Conflict) as exc:
        errors = refused(session, exc)
        if isinstance(exc, SourceNameTaken):
            errors = FormErrors(fields={"name": exc.message})
        context = _form_context(source_type, principal, values, errors)
        return render(request, "sources/form.html", context, status_code=_status(exc))
    return RedirectResponse(f"/sources/{source.id}?saved=1", status_code=303)


@router.get("/sources/{source_id}", include_in_schema=False)
def show_source(
    request: Request,
    session: SessionDep,
    principal: BillingPage,
    source_id: IntId,
    before_id: IntId | None = Query(default=None),
    saved: bool = False,
    fetched: IntId | None = None,
) -> HTMLResponse:
    source = service.get_source(session, source_id)
    runs = service.fetch_runs(session, source_id, RUNS_PAGE + 1, before_id)
    context = {
        "source": service.read_model(source),
        "runs": runs[:RUNS_PAGE],
        "next_before": runs[RUNS_PAGE - 1].id if len(runs) > RUNS_PAGE else None,
        "may_manage": principal.role in service.MANAGERS[source.type],
        "saved": saved,
        "fetched": fetched,
    }
    return render(request, "sources/detail.html", context)


@router.get("/sources/{source_id}/edit", include_in_schema=False)
def edit_source(
    request: Request, session: SessionDep, principal: BillingPage, source_id: IntId
) -> HTMLResponse:
    source = service.get_source(session, source_id)
    values = {**source.params, "name": source.name, "enabled": source.enabled}
    context = _form_context(source.type, principal, values, source=source)
    return render(request, "sources/form.html", context)


@router.post("/sources/{source_id}", include_in_schema=False)
async def update_source(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: BillingPage,
    source_id: IntId,
) -> Response:
    source = service.get_source(session, source_id)
    form = await request.form()
    params = form_values(form, [f.name for f in param_fields(source.type)])
    password = form_values(form, ["password"]).get("password")
    if "remove_password" in form:
        password = ""
    try:
        body = CdrSourceUpdate.model_validate(
            {"enabled": "enabled" in form, "params": params, "password": password}
        )
        service.update_source(session, source_id, body, settings, principal.role)
    except (ValidationError, ValidationFailed, Conflict) as exc:
        errors = refused(session, exc)
        source = service.get_source(session, source_id)
        values = {**params, "name": source.name, "enabled": "enabled" in form}
        context = _form_context(source.type, principal, values, errors, source)
        return render(request, "sources/form.html", context, status_code=_status(exc))
    return RedirectResponse(f"/sources/{source_id}?saved=1", status_code=303)


@router.post("/sources/{source_id}/fetch", include_in_schema=False)
def fetch_now(
    session: SessionDep, settings: SettingsDep, _: BillingPage, source_id: IntId
) -> Response:
    """The worker's fetch of this one source, now. A failure is recorded as a run
    (kept) and shown as the refusal's message."""
    source = service.get_source(session, source_id)
    run = service.fetch_incremental(session, settings, source.name)
    return RedirectResponse(f"/sources/{source_id}?fetched={run.id}", status_code=303)


@router.post("/sources/{source_id}/delete", include_in_schema=False)
def delete_source(session: SessionDep, principal: BillingPage, source_id: IntId) -> Response:
    service.delete_source(session, source_id, principal.role)
    return RedirectResponse("/sources", status_code=303)
