"""Test data, one function per kind of object; every argument has a sensible default."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from telecrm.auth import service as auth_service
from telecrm.auth.models import ApiKey, Role, User
from telecrm.config import Settings

_sequence = itertools.count(1)
PASSWORD = "correct horse battery"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_sequence)}"


def user(
    session: Session,
    role: Role = Role.VIEWER,
    email: str | None = None,
    password: str = PASSWORD,
    **fields: Any,
) -> User:
    obj = User(
        email=email or f"{unique(role.value)}@example.com",
        password_hash=auth_service.hash_secret(password),
        role=role,
        is_active=True,
        failed_logins=0,
        **fields,
    )
    session.add(obj)
    session.flush()
    return obj


def bearer(user_obj: User, settings: Settings) -> dict[str, str]:
    token, _ = auth_service.issue_token(user_obj, settings)
    return {"Authorization": f"Bearer {token}"}


def api_key(session: Session, role: Role = Role.PBX, name: str | None = None) -> tuple[ApiKey, str]:
    return auth_service.create_api_key(session, name or unique("pbx-"), role)
