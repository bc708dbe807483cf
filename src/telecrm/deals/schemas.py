from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import AwareDatetime, ConfigDict, Field

from telecrm.crm.schemas import Amount, BusinessId, Content, CrmFields, ListQuery, StoredRecord
from telecrm.db import IntId
from telecrm.deals.models import DealStage


class _DealBase(Content):
    deal_id: BusinessId
    deal_name: str = Field(min_length=1, max_length=255)
    deal_size: Amount | None = None
    probability_of_closure: str = Field(min_length=1, max_length=50)
    deal_stage: DealStage
    account_id: BusinessId


class DealFields(_DealBase):
    created_at: AwareDatetime = Field(description="When the deal was created (in the CRM).")


class DealDTO(CrmFields, DealFields):
    """A deal as exchanged with the CRM and written to the export files."""


class DealCreate(_DealBase):
    model_config = ConfigDict(extra="forbid")

    created_at: AwareDatetime | None = Field(default=None, description="Default: now.")


class DealUpdate(Content):
    """The fields to change; the business key (deal_id) never changes."""

    model_config = ConfigDict(extra="forbid")

    deal_name: str | None = Field(default=None, min_length=1, max_length=255)
    deal_size: Amount | None = None
    probability_of_closure: str | None = Field(default=None, min_length=1, max_length=50)
    deal_stage: DealStage | None = None
    account_id: BusinessId | None = None
    created_at: AwareDatetime | None = None


class DealRead(DealDTO, StoredRecord):
    pass


class DealQuery(ListQuery):
    sort: str = Field(default="deal_id", description="A field; '-field' sorts descending.")
    deal_id: IntId | None = None
    deal_name: str | None = None
    deal_size: Decimal | None = None
    probability_of_closure: str | None = None
    deal_stage: DealStage | None = None
    account_id: IntId | None = None
    created_at: dt.datetime | None = None
    crm_id: str | None = None
