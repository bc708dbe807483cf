from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, TimestampMixin, UTCDateTime, enum_column_type


class Role(enum.StrEnum):
    ADMIN = "admin"
    BILLING = "billing"
    SALES = "sales"
    VIEWER = "viewer"
    CUSTOMER = "customer"
    PBX = "pbx"


ROLE_TYPE = enum_column_type(Role, "role")


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A user of role ``customer`` sees only this contract's data.
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracts.id", ondelete="SET NULL"), index=True
    )


class ApiKey(TimestampMixin, Base):
    """A machine's credential. The key is shown once; only its argon2 hash is kept,
    found again by its public ``prefix``."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
