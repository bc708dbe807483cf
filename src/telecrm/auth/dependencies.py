"""``require(role, ...)``: the dependency every protected route declares, as
``Annotated[Principal, Depends(require(...))]`` or a named alias of one; and
``PrincipalDep`` for a route open to any authenticated principal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import Engine

from telecrm.audit.service import set_actor
from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.db import skippable_write
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import DatabaseBusy, Forbidden, NotAuthenticated

log = logging.getLogger(__name__)
# How long noting an API key's use waits for another writer before it is skipped.
_NOTE_WAIT_SECONDS = 0.1

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def _note_api_key_use(engine: Engine, principal: Principal) -> None:
    """After the response, in a short unit of work of its own: a read's cannot write
    (on SQLite a transaction that read cannot take the write lock once a writer
    committed), and a writer's would hold the key's row (PostgreSQL) for the whole
    request. ``last_used_at`` is advisory, so a busy database skips it."""
    try:
        with skippable_write(engine, _NOTE_WAIT_SECONDS) as session:
            service.note_api_key_use(session, principal)
    except DatabaseBusy:
        log.info("last use of API key %s not noted: the database is busy", principal.id)


def current_principal(
    request: Request,
    background_tasks: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    if token:
        principal = service.principal_from_token(session, token, settings)
    elif api_key:
        principal = service.principal_from_api_key(session, api_key)
        if service.api_key_use_due(principal):
            background_tasks.add_task(_note_api_key_use, request.app.state.engine, principal)
    else:
        raise NotAuthenticated("not authenticated: send a bearer token or an X-API-Key header")
    set_actor(session, principal.actor)
    return principal


# Any authenticated principal, whatever its role.
PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role | str) -> Callable[..., Principal]:
    """Allow the given roles (``admin`` always); 401 without valid credentials,
    403 with a role that is not allowed."""
    allowed = frozenset(Role(role) for role in roles) | {Role.ADMIN}

    def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role {principal.role.value} may not do this "
                f"(allowed: {', '.join(sorted(role.value for role in allowed))})"
            )
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


# The role sets several domains share; a domain names its own next to its routes.
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
BillingPrincipal = Annotated[Principal, Depends(require(Role.BILLING))]
