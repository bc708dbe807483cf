from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from telecrm.jobs.models import JobState


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    arguments: dict[str, Any]
    state: JobState
    trigger: str
    parent_id: uuid.UUID | None
    done: int = Field(description="Parts done (days rated, batches pushed...).")
    total: int | None = Field(description="Parts in all; null while unknown.")
    result: dict[str, Any] | None = Field(
        description="What the job did; for a job split into parts, the sum of its parts'."
    )
    error: str | None
    worker: str | None = Field(description="host:pid of the process that runs or ran it.")
    attempts: int = Field(description="Times it was started (more than 1: redelivered).")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None


class RatingJobRequest(BaseModel):
    first: dt.date = Field(description="First day (billing time zone) to rate.")
    last: dt.date | None = Field(default=None, description="Last day, included; default: first.")
    rerate: bool = Field(
        default=False, description="Rate rated CDRs again too (not those on a sent invoice)."
    )
    shards: int = Field(
        default=1, ge=1, le=64, description="Split each day's calls into this many jobs."
    )


class DraftsJobRequest(BaseModel):
    year: int = Field(ge=2000, le=9999)
    month: int = Field(ge=1, le=12)
