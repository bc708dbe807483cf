"""A page's principal, from the session cookie. Without a valid session a page
redirects to the sign-in page (``LoginRequired``); a role that may not see a page gets
the same 403 the API gives, rendered as a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from telecrm.audit.service import set_actor
from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import AppError, Forbidden
from telecrm.web.session import SESSION_COOKIE


class LoginRequired(Exception):
    """No valid session: the handler in ``telecrm.web.errors`` redirects to sign in."""


def page_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        principal = service.principal_from_token(session, token, settings)
    except AppError as exc:
        raise LoginRequired() from exc
    set_actor(session, principal.actor)
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_require(*roles: Role | str) -> Callable[..., Principal]:
    """Allow the given roles (``admin`` always), as ``auth.dependencies.require`` does
    for the API."""
    allowed = frozenset(Role(role) for role in roles) | {Role.ADMIN}

    def dependency(principal: PagePrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role.value} may not open this page")
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


STAFF_ROLES = (Role.BILLING, Role.SALES, Role.VIEWER)
StaffPage = Annotated[Principal, Depends(page_require(*STAFF_ROLES))]
BillingPage = Annotated[Principal, Depends(page_require(Role.BILLING))]
AdminPage = Annotated[Principal, Depends(page_require(Role.ADMIN))]
CustomerPage = Annotated[Principal, Depends(page_require(Role.CUSTOMER))]
