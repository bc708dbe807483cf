from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from telecrm.api_errors import error_responses
from telecrm.auth import service
from telecrm.auth.dependencies import AdminPrincipal, PrincipalDep
from telecrm.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    Me,
    Token,
    UserCreate,
    UserRead,
    UserUpdate,
)
from telecrm.db import IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import (
    ApiKeyNotFound,
    EmailTaken,
    NotAuthenticated,
    TooManyRequests,
    UserNotFound,
)

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/auth/token",
    response_model=Token,
    summary="Log in (OAuth2 password flow)",
    responses=error_responses(NotAuthenticated, TooManyRequests),
)
def login(
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
) -> Token:
    token, expires_at = service.login(session, form.username, form.password, settings)
    return Token(access_token=token, expires_at=expires_at)


@router.get("/auth/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    return Me(kind=principal.kind, id=principal.id, name=principal.name, role=principal.role)


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, _: AdminPrincipal) -> list[UserRead]:
    return [UserRead.model_validate(user) for user in service.list_users(session)]


@router.post(
    "/users",
    response_model=UserRead,
    status_code=201,
    responses=error_responses(EmailTaken),
)
def create_user(
    session: SessionDep,
    body: UserCreate,
    _: AdminPrincipal,
    settings: SettingsDep,
) -> UserRead:
    user = service.create_user(
        session, body.email, body.password, body.role, settings, contract=body.contract
    )
    return UserRead.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserRead, responses=error_responses(UserNotFound))
def update_user(
    session: SessionDep,
    user_id: IntId,
    body: UserUpdate,
    _: AdminPrincipal,
    settings: SettingsDep,
) -> UserRead:
    user = service.update_user(
        session,
        user_id,
        settings,
        role=body.role,
        is_active=body.is_active,
        password=body.password,
        contract=body.contract,
    )
    return UserRead.model_validate(user)


@router.get("/api-keys", response_model=list[ApiKeyRead])
def list_api_keys(session: SessionDep, _: AdminPrincipal) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(key) for key in service.list_api_keys(session)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    session: SessionDep,
    body: ApiKeyCreate,
    principal: AdminPrincipal,
) -> ApiKeyCreated:
    api_key, key = service.create_api_key(session, body.name, body.role, principal.id)
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=key)


@router.delete(
    "/api-keys/{key_id}", response_model=ApiKeyRead, responses=error_responses(ApiKeyNotFound)
)
def revoke_api_key(
    session: SessionDep,
    key_id: IntId,
    _: AdminPrincipal,
) -> ApiKeyRead:
    return ApiKeyRead.model_validate(service.revoke_api_key(session, key_id))
