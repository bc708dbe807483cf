from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, BigIntegerPK, UTCDateTime, utcnow


class AuditEntry(Base):
    """Who changed what, which object, when. Written for every change made
    through the API (see ``telecrm.audit.service``); never updated."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
