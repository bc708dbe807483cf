from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from telecrm.db import IntId
from telecrm.money import RATE_SCALE
from telecrm.rating.types import RateType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RatePrefix = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,20}$"), Field(examples=["62"])
]
AreaPrefix = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{0,20}$"), Field(examples=["812"])
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Price = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=RATE_SCALE)]
Seconds = Annotated[int, Field(ge=1, le=86_400)]
EFFECTIVE_HELP = (
    "An instant; a date or a time without a zone is read in the billing time zone. Empty: open."
)


class RateGroupCreate(BaseModel):
    name: Name
    memo: str | None = None


class RateGroupUpdate(BaseModel):
    name: Name | None = None
    memo: str | None = None


class RateGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    memo: str | None
    rate_count: int
    contract_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class RateGroupCsvRow(RateGroupCreate):
    """A row of ``telecrm rate-groups import``: ``id,name,memo``."""

    id: IntId


class RateCreate(BaseModel):
    rate_prefix: RatePrefix
    area_prefix: AreaPrefix = ""
    description: Description | None = Field(
        default=None, description="The destination, e.g. 'Indonesia Mobile Telkomsel'."
    )
    rate_type: RateType
    billing_rate: Price = Field(description="Per minute, per second or per call (rate_type).")
    billing_cycle: Seconds = Field(description="Seconds billed after the first increment.")
    initial_increment: Seconds | None = Field(
        default=None, description="Seconds billed first; empty: the billing cycle."
    )
    connect_fee: Price = Decimal(0)
    effective_from: dt.datetime | None = Field(default=None, description=EFFECTIVE_HELP)
    effective_to: dt.datetime | None = Field(
        default=None, description="Exclusive. " + EFFECTIVE_HELP
    )


class RateUpdate(BaseModel):
    rate_prefix: RatePrefix | None = None
    area_prefix: AreaPrefix | None = None
    description: Description | None = None
    rate_type: RateType | None = None
    billing_rate: Price | None = None
    billing_cycle: Seconds | None = None
    initial_increment: Seconds | None = None
    connect_fee: Price | None = None
    effective_from: dt.datetime | None = None
    effective_to: dt.datetime | None = None


class PriceChange(BaseModel):
    """A rate's new price from an instant: the rate ends there, a copy with these
    values starts there (``rates.service.change_price``)."""

    billing_rate: Price
    connect_fee: Price | None = Field(default=None, description="Empty: the rate's own.")
    effective_from: dt.datetime = Field(
        description="The instant the new price starts. " + EFFECTIVE_HELP.split(";")[0] + "."
    )


class RateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rate_group_id: int
    rate_prefix: str
    area_prefix: str
    destination_prefix: str
    description: str | None
    rate_type: RateType
    billing_rate: Decimal
    billing_cycle: int
    initial_increment: int | None
    connect_fee: Decimal
    effective_from: dt.datetime | None
    effective_to: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RateCsvRow(RateCreate):
    """A row of ``telecrm rates import`` (and of an uploaded rate deck, where
    ``rate_group_id`` may be left out: the group is the one uploaded to)."""

    rate_group_id: IntId | None = None
