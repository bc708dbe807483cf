"""Sign in and sign out. The same ``auth.service.login`` as ``POST /api/auth/token``:
the same lockout, the same refusals (shown on the form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import NotAuthenticated, TooManyRequests
from telecrm.web.dependencies import PagePrincipal
from telecrm.web.session import end_session, start_session
from telecrm.web.templating import render

router = APIRouter()


def home_of(role: Role) -> str:
    return "/portal" if role is Role.CUSTOMER else "/dashboard"


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never ``//host`` or a scheme (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _demo_users(settings_demo: bool) -> list[tuple[str, str, str]]:
    if not settings_demo:
        return []
    from telecrm.demo.users import DEMO_PASSWORD, DEMO_USERS

    return [(email, role.value, DEMO_PASSWORD) for email, role in DEMO_USERS]


@router.get("/", include_in_schema=False)
def home(principal: PagePrincipal) -> Response:
    return RedirectResponse(home_of(principal.role), status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return render(
        request,
        "auth/login.html",
        {"next": safe_next(next) or "", "demo_users": _demo_users(settings.demo)},
    )


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    try:
        token, _ = service.login(session, email, password, settings)
    except (NotAuthenticated, TooManyRequests) as exc:
        # Caught here, so the unit of work commits the failure count as the API's does.
        context = {
            "next": safe_next(next) or "",
            "email": email,
            "error": exc.message,
            "demo_users": _demo_users(settings.demo),
        }
        return render(request, "auth/login.html", context, status_code=exc.status_code)
    principal = service.principal_from_token(session, token, settings)
    response = RedirectResponse(safe_next(next) or home_of(principal.role), status_code=303)
    start_session(request, response, token, settings.token_expire_minutes * 60)
    return response


@router.post("/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response
