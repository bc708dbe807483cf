from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field

from telecrm.accounts.models import Region
from telecrm.crm.schemas import Amount, BusinessId, Content, CrmFields, ListQuery, StoredRecord
from telecrm.db import IntId


class AccountFields(Content):
    account_id: BusinessId
    account_name: str = Field(min_length=1, max_length=255)
    industry: str = Field(min_length=1, max_length=100)
    account_value: Amount
    region: Region


class AccountDTO(CrmFields, AccountFields):
    """An account as exchanged with the CRM and written to the export files."""


class AccountCreate(AccountFields):
    model_config = ConfigDict(extra="forbid")


class AccountUpdate(Content):
    """The fields to change; the business key (account_id) never changes."""

    model_config = ConfigDict(extra="forbid")

    account_name: str | None = Field(default=None, min_length=1, max_length=255)
    industry: str | None = Field(default=None, min_length=1, max_length=100)
    account_value: Amount | None = None
    region: Region | None = None


class AccountRead(AccountDTO, StoredRecord):
    pass


class AccountQuery(ListQuery):
    sort: str = Field(default="account_id", description="A field; '-field' sorts descending.")
    account_id: IntId | None = None
    account_name: str | None = None
    industry: str | None = None
    account_value: Decimal | None = None
    region: Region | None = None
    crm_id: str | None = None
