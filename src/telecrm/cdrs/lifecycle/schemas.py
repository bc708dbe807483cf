from __future__ import annotations

from pydantic import BaseModel


class CdrStatusRead(BaseModel):
    status_id: str
    description: str
    cdrs: int
