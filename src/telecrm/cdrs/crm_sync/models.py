from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, BigIntegerPK, UTCDateTime, utcnow


class SyncStatus(enum.StrEnum):
    """The values of ``cdrs.sync_status``."""

    PENDING = "pending"  # to be pushed (new, or re-queued)
    SYNCED = "synced"  # the CRM has the call; cdrs.crm_call_id is its id there
    FAILED = "failed"  # the last try failed; retried after a backoff until the attempts run out


class SyncLog(Base):
    """Seed 000's Sync_Log: one row per CDR per attempt to push it."""

    __tablename__ = "sync_log"

    log_id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    # The call's id, not a foreign key: none can point at the id alone of the
    # partitioned ``cdrs`` (migration 0014). Retention deletes the log of the calls it
    # drops, as the cascade did.
    cdr_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # synced, failed, deferred
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    message: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    crm_call_id: Mapped[str | None] = mapped_column(String(64))


class CrmDailyUsage(Base):
    """Requests the call sync made to the CRM per day, so the daily limit holds across
    runs and processes."""

    __tablename__ = "crm_daily_usage"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
