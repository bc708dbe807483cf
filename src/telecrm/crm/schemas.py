"""What every CRM domain's schemas share: the CRM bookkeeping of a record, the list
query (filters, sort, page) and the page of results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from telecrm.crm.connector import CrmDomain
from telecrm.db import BIGINT_MAX

ItemT = TypeVar("ItemT")

# A business id (account_id, deal_id): an INTEGER column on PostgreSQL.
BusinessId = Annotated[int, Field(gt=0, le=2_147_483_647)]
CENT = Decimal("0.01")
# Money with cents, always written with both (750.00): one form for files and the CRM.
# 15 integer digits keep the scaled value in SQLite's 64-bit integer.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=17, decimal_places=2),
    AfterValidator(lambda amount: amount.quantize(CENT)),
]


class Content(BaseModel):
    """A record's own fields. Text is stripped and blank text is no value, so that
    the CRM's "" and a missing property compare equal, and so do " Acme" and "Acme"."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value


class CrmFields(BaseModel):
    """Where the record lives in the external CRM (None: not there yet)."""

    crm_id: str | None = Field(default=None, max_length=64)
    crm_updated_at: AwareDatetime | None = None


class StoredRecord(BaseModel):
    """What a read of a stored record adds: its id here, bookkeeping, sync state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    crm_sync_error: str | None = Field(
        default=None,
        description="Set while a local change is not in the CRM: why the last write failed.",
    )


class ListQuery(BaseModel):
    """Query parameters of a list: equality filters (the subclass's fields), a sort
    field (``-`` in front for descending) and a page."""

    model_config = ConfigDict(extra="forbid")
    paging_fields: ClassVar[frozenset[str]] = frozenset({"sort", "offset", "limit"})

    sort: str = Field(default="id", description="A field; '-field' sorts descending.")
    offset: int = Field(default=0, ge=0, le=BIGINT_MAX)
    limit: int = Field(default=100, ge=1, le=1000)

    def filters(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self
            if name not in self.paging_fields and value is not None
        }


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int = Field(description="Records matching the filters, on every page.")
    offset: int
    limit: int


class CrmSyncRequest(BaseModel):
    """Which domains an extract or a push takes, in dependency order whatever the
    order given (contacts and deals point at accounts)."""

    model_config = ConfigDict(extra="forbid")

    domains: list[CrmDomain] = Field(default_factory=lambda: list(CrmDomain), min_length=1)

    def ordered(self) -> list[CrmDomain]:
        return [domain for domain in CrmDomain if domain in self.domains]


class RejectedRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row: int | None = Field(description="Its place among the records the CRM gave.")
    key: str | None
    crm_id: str | None
    reason: str


class ExtractOutcome(BaseModel):
    """What an extract of one domain did."""

    domain: CrmDomain
    fetched: int
    new: int
    changed: int
    unchanged: int
    pending: int = Field(description="Changed here, not in the CRM yet: left as they are.")
    rejected: list[RejectedRecord]


class PushOutcome(BaseModel):
    domain: CrmDomain
    pushed: int = Field(description="Pending local changes written to the CRM.")
