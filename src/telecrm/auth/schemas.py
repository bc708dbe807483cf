from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from telecrm.auth.models import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


_CONTRACT = Field(
    default=None,
    min_length=1,
    max_length=80,
    description="The account code of the contract a customer user sees: required for role "
    "customer, refused for the others.",
)


class UserCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    role: Role
    contract: str | None = _CONTRACT


class UserUpdate(BaseModel):
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)
    contract: str | None = _CONTRACT


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    is_active: bool
    contract_id: int | None
    contract: str | None = Field(
        validation_alias="contract_accountcode", description="The contract's account code."
    )
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class Me(BaseModel):
    kind: str
    id: int
    name: str
    role: Role


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself; shown this once, never stored.")
