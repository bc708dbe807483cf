from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from telecrm.auth.models import ApiKey, LoginFailure, User


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.lower())).one_or_none()


def list_users(session: Session, contract_id: int | None = None) -> Sequence[User]:
    query = select(User).options(selectinload(User.contract)).order_by(User.id)
    if contract_id is not None:
        query = query.where(User.contract_id == contract_id)
    return session.scalars(query).all()


def add(session: Session, obj: User | ApiKey) -> None:
    session.add(obj)
    session.flush()


def get_api_key(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def get_api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()


def note_api_key_use(session: Session, key_id: int, at: dt.datetime, since: dt.datetime) -> None:
    """``last_used_at`` to ``at``, unless the key was noted as used after ``since``."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < since),
        )
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def count_user_login_failure(session: Session, user_id: int) -> int:
    """Add one failed login to the user in one statement (two failures at once both
    count) and return the new count."""
    counted = (
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(counted).scalar_one())


# --- failed logins of e-mails without an account ------------------------------------


def login_locked_until(session: Session, email_hash: str) -> dt.datetime | None:
    return session.scalar(
        select(LoginFailure.locked_until).where(LoginFailure.email_hash == email_hash)
    )


def count_login_failure(session: Session, email_hash: str, at: dt.datetime) -> int:
    """Add one failure in one statement (two instances at once both count) and
    return the count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginFailure).values(email_hash=email_hash, failures=1, last_failed_at=at)
    counted = statement.on_conflict_do_update(
        index_elements=[LoginFailure.email_hash],
        set_={
            "failures": LoginFailure.failures + 1,
            "last_failed_at": statement.excluded.last_failed_at,
        },
    ).returning(LoginFailure.failures)
    return int(session.execute(counted).scalar_one())


def lock_login(session: Session, email_hash: str, until: dt.datetime) -> None:
    session.execute(
        update(LoginFailure).where(LoginFailure.email_hash == email_hash).values(locked_until=until)
    )


def forget_login_failures(session: Session, email_hash: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.email_hash == email_hash))
