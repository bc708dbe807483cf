"""Administration (admin only, as ``/api/users``, ``/api/api-keys``, ``/api/audit``):
users (create; change role and contract; deactivate; reset the password), API keys
(the key is shown once, on the page that created it; revoke), and the audit log
with its filters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from telecrm.audit import service as audit
from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.auth.schemas import ApiKeyCreate, UserCreate, UserUpdate
from telecrm.config import Settings
from telecrm.db import BigIntId, IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import EmailTaken, ValidationFailed
from telecrm.web.dependencies import AdminPage
from telecrm.web.forms import FormErrors, filter_status, optional_value, refused
from telecrm.web.templating import render

router = APIRouter()

AUDIT_PAGE = 50
USER_ROLES = [role.value for role in Role if role is not Role.PBX]
KEY_ROLES = [role.value for role in Role if role is not Role.CUSTOMER]
Text = Annotated[str, Form(max_length=1024)]


def _users_page(
    request: Request,
    session: Session,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "users": service.list_users(session),
        "roles": USER_ROLES,
        "values": values or {"role": Role.VIEWER.value},
        "errors": errors or FormErrors(),
        "created": request.query_params.get("created"),
    }
    return render(request, "admin/users.html", context, status_code=status_code)


@router.get("/admin/users", include_in_schema=False)
def users(request: Request, session: SessionDep, _: AdminPage) -> HTMLResponse:
    return _users_page(request, session)


@router.post("/admin/users", include_in_schema=False)
def create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: AdminPage,
    email: Text = "",
    password: Text = "",
    role: Text = "",
    contract: Text = "",
) -> Response:
    values = {"email": email, "role": role, "contract": contract}
    try:
        body = UserCreate.model_validate(
            {"email": email, "password": password, "role": role, "contract": contract or None}
        )
        user = service.create_user(
            session, body.email, body.password, body.role, settings, contract=body.contract
        )
    except (ValidationError, ValidationFailed, EmailTaken) as exc:
        errors = refused(session, exc)
        if isinstance(exc, EmailTaken):
            errors = FormErrors(fields={"email": exc.message})
        status = exc.status_code if isinstance(exc, EmailTaken) else 422
        return _users_page(request, session, values, errors, status)
    return RedirectResponse(f"/admin/users?created={user.id}", status_code=303)


def _user_page(
    request: Request,
    session: Session,
    user_id: int,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "user": service.get_user(session, user_id),
        "roles": USER_ROLES,
        "errors": errors or FormErrors(),
        "saved": request.query_params.get("saved"),
    }
    return render(request, "admin/user.html", context, status_code=status_code)


@router.get("/admin/users/{user_id}", include_in_schema=False)
def user(request: Request, session: SessionDep, _: AdminPage, user_id: IntId) -> HTMLResponse:
    return _user_page(request, session, user_id)


@router.post("/admin/users/{user_id}", include_in_schema=False)
def update_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: AdminPage,
    user_id: IntId,
    action: Annotated[str, Form(pattern="^(role|activate|deactivate|password)$")],
    role: Text = "",
    contract: Text = "",
    password: Text = "",
) -> Response:
    """One form per change: role and contract, (de)activation, a new password."""
    choices: dict[str, dict[str, Any]] = {
        "role": {"role": role, "contract": contract or None},
        "activate": {"is_active": True},
        "deactivate": {"is_active": False},
        "password": {"password": password},
    }
    changes = choices[action]
    try:
        body = UserUpdate.model_validate(changes)
        service.update_user(session, user_id, settings, **body.model_dump(exclude_unset=True))
    except (ValidationError, ValidationFailed) as exc:
        return _user_page(request, session, user_id, refused(session, exc), 422)
    return RedirectResponse(f"/admin/users/{user_id}?saved={action}", status_code=303)


def _keys_page(
    request: Request,
    session: Session,
    created: tuple[Any, str] | None = None,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "keys": service.list_api_keys(session),
        "roles": KEY_ROLES,
        "created": created,
        "values": values or {"role": Role.PBX.value},
        "errors": errors or FormErrors(),
    }
    response = render(request, "admin/api_keys.html", context, status_code=status_code)
    if created is not None:
        # The key is on this page only: never cached, never shown again.
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin/api-keys", include_in_schema=False)
def api_keys(request: Request, session: SessionDep, _: AdminPage) -> HTMLResponse:
    return _keys_page(request, session)


@router.post("/admin/api-keys", include_in_schema=False)
def create_api_key(
    request: Request,
    session: SessionDep,
    principal: AdminPage,
    name: Text = "",
    role: Text = "",
) -> HTMLResponse:
    """Shown here once: the page answers the form itself rather than redirecting, so
    the key is never in a URL or a later page."""
    values = {"name": name, "role": role}
    try:
        body = ApiKeyCreate.model_validate(values)
        created = service.create_api_key(session, body.name, body.role, principal.id)
    except (ValidationError, ValidationFailed) as exc:
        return _keys_page(request, session, None, values, refused(session, exc), 422)
    session.flush()
    return _keys_page(request, session, created)


@router.post("/admin/api-keys/{key_id}/revoke", include_in_schema=False)
def revoke_api_key(session: SessionDep, _: AdminPage, key_id: IntId) -> Response:
    service.revoke_api_key(session, key_id)
    return RedirectResponse("/admin/api-keys", status_code=303)


def _start_of_day(day: dt.date, settings: Settings) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=settings.tz).astimezone(dt.UTC)


@router.get("/admin/audit", include_in_schema=False)
def audit_log(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: AdminPage,
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    since: str = "",
    before_id: Annotated[BigIntId | None, Query()] = None,
) -> HTMLResponse:
    errors = FormErrors()
    since_day = optional_value(dt.date, since, "since", errors)
    entries = audit.list_entries(
        session,
        object_type=object_type.strip() or None,
        object_id=object_id.strip() or None,
        actor=actor.strip() or None,
        since=_start_of_day(since_day, settings) if since_day else None,
        before_id=before_id,
        limit=AUDIT_PAGE + 1,
    )
    values = {"object_type": object_type, "object_id": object_id, "actor": actor, "since": since}
    context = {
        "entries": entries[:AUDIT_PAGE],
        "next_before": entries[AUDIT_PAGE - 1].id if len(entries) > AUDIT_PAGE else None,
        "values": {name: value.strip() for name, value in values.items()},
        "errors": errors,
        "changes_text": lambda changes: json.dumps(changes, default=str, ensure_ascii=False),
    }
    return render(request, "admin/audit.html", context, status_code=filter_status(request, errors))
