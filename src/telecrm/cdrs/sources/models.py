from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, BigIntegerPK, TimestampMixin, UTCDateTime, enum_column_type, utcnow


class CdrSourceType(enum.StrEnum):
    DIRECTORY = "directory"  # a folder of Asterisk or FreeSWITCH CDR files
    ASTERISK_DB = "asterisk_db"  # the `cdr` table of cdr_pgsql / cdr_adaptive_odbc
    PUSH = "push"  # the PBX POSTs its CDRs to /api/cdrs/push


class CdrSource(TimestampMixin, Base):
    __tablename__ = "cdr_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[CdrSourceType] = mapped_column(enum_column_type(CdrSourceType, "cdr_source_type"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The type's parameters without its secrets (see telecrm.cdrs.sources.schemas).
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The secret parameters (a database password) as one Fernet token of a JSON object,
    # encrypted with TELECRM_ENCRYPTION_KEY. Named so that the audit log masks it.
    secret: Mapped[str | None] = mapped_column(Text)
    # A database source: the latest call start read so far; the next run reads on from
    # a little before it (settings.cdr_db_overlap_minutes).
    watermark: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_fetch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_fetch_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)


class FetchRunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CdrFetchRun(Base):
    """One fetch from one source: the window asked for, what came of it, or why it failed."""

    __tablename__ = "cdr_fetch_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("cdr_sources.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20))  # api, cli, worker, push
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[FetchRunStatus] = mapped_column(
        enum_column_type(FetchRunStatus, "fetch_run_status"), default=FetchRunStatus.RUNNING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    invalid: Mapped[int] = mapped_column(BigInteger, default=0)
    # The highest CDR id when the run ended: the next run reports what came after it.
    last_cdr_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StagedPush(Base):
    """A PBX's post to /api/cdrs/push, kept as it came until a drain imports it: the
    2xx answer means this row is committed, and the drain that imports the post
    deletes it in the same transaction, so each post is imported once."""

    __tablename__ = "cdr_push_staging"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    # By name, not a foreign key: a post outlives its source's removal (it becomes a
    # reject then, never lost).
    source: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))  # who posted it: the audit trail's
    content_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
