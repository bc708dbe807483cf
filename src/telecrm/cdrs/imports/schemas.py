"""What the API shows of CDR imports and of the rows they rejected."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class CdrImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str | None
    format: str
    file_name: str
    timezone: str
    status: str
    lines_read: int
    imported: int
    duplicates: int
    rejected: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


class CdrRejectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    import_id: int | None
    source: str | None
    file_name: str | None
    line_number: int | None
    reason: str
    raw: str
    created_at: dt.datetime
