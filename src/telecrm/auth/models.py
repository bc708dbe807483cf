from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Protocol

from sqlalchemy import Boolean, Dialect, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from telecrm.db import Base, TimestampMixin, UTCDateTime, enum_column_type


class BoundContract(Protocol):
    """What auth knows of the contract a customer's user is bound to (the contracts,
    above auth, hold the model: ``telecrm.contracts.models.Contract``)."""

    @property
    def id(self) -> int: ...

    @property
    def accountcode(self) -> str: ...


class Role(enum.StrEnum):
    ADMIN = "admin"
    BILLING = "billing"
    SALES = "sales"
    VIEWER = "viewer"
    CUSTOMER = "customer"
    PBX = "pbx"


ROLE_TYPE = enum_column_type(Role, "role")


class _Unlogged(str):
    """A stored hash that SQLAlchemy's SQL log shows as ``'<hash>'``: the log prints
    the ``repr`` of parameters (at INFO) and of rows (at DEBUG)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<hash>'"


class HashString(TypeDecorator[str]):
    """A password or key hash: a plain VARCHAR that never appears in the SQL log."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else _Unlogged(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else _Unlogged(value)


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(HashString(255))
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A user of role ``customer`` sees only this contract's data.
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracts.id", ondelete="SET NULL"), index=True
    )
    # Carried by every token; a password change raises it, ending the tokens issued before.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    contract: Mapped[BoundContract | None] = relationship("Contract", lazy="select")

    @property
    def contract_accountcode(self) -> str | None:
        return self.contract.accountcode if self.contract is not None else None


class ApiKey(TimestampMixin, Base):
    """A machine's credential. The key is shown once; only its argon2 hash is kept,
    found again by its public ``prefix``."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(HashString(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """Failed logins for an e-mail that has no account, counted as an account's are
    (``users.failed_logins``) so that the answers cannot tell the two apart. Keyed
    by the SHA-256 of the normalised e-mail: what strangers typed is not kept."""

    __tablename__ = "login_failures"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
