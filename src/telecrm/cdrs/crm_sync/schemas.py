from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from telecrm.db import BigIntId


class SyncRequest(BaseModel):
    cdr_ids: list[BigIntId] | None = Field(
        default=None, max_length=10_000, description="Only these CDRs; default: every one due."
    )
    limit: int | None = Field(
        default=None, ge=1, description="At most this many CDRs in this request."
    )
    retry_failed: bool = Field(
        default=False, description="Re-queue failed CDRs (their attempts reset) first."
    )


class SyncResult(BaseModel):
    requeued: int
    batches: int
    selected: int
    synced: int
    failed: int
    requests: int
    stop_reason: str | None
    examples: list[dict[str, Any]]


class RequeueRequest(BaseModel):
    cdr_ids: list[BigIntId] | None = Field(
        default=None, max_length=10_000, description="Only these CDRs; default: every failed one."
    )


class RequeueResult(BaseModel):
    requeued: int


class SyncLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    log_id: int
    cdr_id: int
    status: str
    timestamp: dt.datetime
    message: str | None
    attempt: int
    crm_call_id: str | None


class SyncCounts(BaseModel):
    """Validated CDRs by where they stand with the CRM."""

    pending: int
    synced: int
    failed: int
    out_of_attempts: int = Field(
        description="Failed ones with no try left: they wait for a requeue."
    )
    due: int = Field(description="Pending or failed ones a sync would push now.")
