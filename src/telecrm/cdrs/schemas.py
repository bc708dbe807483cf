from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from telecrm.rating.types import RatingStatus


class CdrRead(BaseModel):
    """One call as the PBX wrote it, with what its cost is and how it was found."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: str | None
    source: str | None
    accountcode: str
    src: str
    dst: str
    clid: str | None
    start_time: dt.datetime
    answer_time: dt.datetime | None
    end_time: dt.datetime | None
    duration: int
    billsec: int
    disposition: str
    status: str = Field(
        validation_alias="lifecycle_status",
        description="new, valid or invalid (validation); then rated or unrated; then "
        "invoiced once on a sent invoice",
    )
    sync_status: str
    rating_status: RatingStatus | None = Field(
        description="pending while billing will rate the call; null for an invalid call"
    )
    rating_reason: str | None
    validation_errors: list[str] | None = Field(
        description="Every validation finding; the call is invalid (not billed) only when "
        "one of them is about a field it is billed by (README: Validation and status)"
    )
    contract_id: int | None
    cleaned_number: str | None
    matched_prefix: str | None
    rate_id: int | None
    billable_seconds: int | None
    cost: Decimal | None
    rated_at: dt.datetime | None
    invoice_id: int | None


class CdrPage(BaseModel):
    items: list[CdrRead]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page (older calls); null on the last page."
    )
