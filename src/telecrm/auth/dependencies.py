"""``require(role, ...)``: the dependency every protected route declares."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from telecrm.audit.service import set_actor
from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.config import Settings
from telecrm.dependencies import SessionDep
from telecrm.errors import Forbidden, NotAuthenticated

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_principal(
    session: SessionDep,
    settings: Settings = Depends(get_app_settings),
    token: str | None = Depends(bearer_scheme),
    api_key: str | None = Depends(api_key_scheme),
) -> Principal:
    if token:
        principal = service.principal_from_token(session, token, settings)
    elif api_key:
        principal = service.principal_from_api_key(session, api_key)
    else:
        raise NotAuthenticated("not authenticated: send a bearer token or an X-API-Key header")
    set_actor(session, principal.actor)
    return principal


def require(*roles: Role | str) -> Callable[..., Principal]:
    """Allow the given roles (``admin`` always); 401 without valid credentials,
    403 with a role that is not allowed."""
    allowed = frozenset(Role(role) for role in roles) | {Role.ADMIN}

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role {principal.role.value} may not do this "
                f"(allowed: {', '.join(sorted(role.value for role in allowed))})"
            )
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency
