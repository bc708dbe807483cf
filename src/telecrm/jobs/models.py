"""The ``jobs`` table: every run of a background task, its state, progress and outcome."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, UTCDateTime, enum_column_type, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created_at", "state", "created_at"),)

    # Also the Celery task id: a redelivered message finds its own row.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        enum_column_type(JobState, "job_state"), default=JobState.QUEUED
    )
    # Who started it: a user's name, "beat", "worker", or the job that fanned it out.
    trigger: Mapped[str] = mapped_column(String(100), default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # The process that runs it (host:pid); how many times it was started (redeliveries).
    worker: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
