from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from telecrm.crm.schemas import ListQuery
from telecrm.db import IntId
from telecrm.reports.models import AggregationKind


class DealAggregationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: int
    aggregation_type: AggregationKind
    aggregation_date: dt.date = Field(description="First day of the period (weeks: Monday).")
    total_deal_size: Decimal
    deal_count: int
    created_at: dt.datetime = Field(description="When it was computed.")


class DealAggregationQuery(ListQuery):
    sortable: ClassVar[tuple[str, ...]] = (
        "aggregation_date",
        "account_id",
        "total_deal_size",
        "deal_count",
    )

    sort: str = Field(
        default="aggregation_date",
        description="aggregation_date, account_id, total_deal_size or deal_count; "
        "'-' in front sorts descending.",
    )
    kind: AggregationKind | None = None
    account_id: IntId | None = None
    date_from: dt.date | None = Field(default=None, description="Periods starting on or after.")
    date_to: dt.date | None = Field(default=None, description="Periods starting on or before.")


class AggregationCompute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[AggregationKind] = Field(default_factory=lambda: list(AggregationKind))


class AggregationSummary(BaseModel):
    kind: AggregationKind
    rows: int = Field(description="Account-periods stored.")
    accounts: int
    deals: int = Field(description="Deals counted (those with a size).")
    total_deal_size: Decimal


class PeriodTotal(BaseModel):
    """One period of a kind, over the accounts asked for: a point of the chart."""

    period: dt.date
    total_deal_size: Decimal
    deals: int
