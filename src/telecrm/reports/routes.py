from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from telecrm.crm.dependencies import CrmReader, CrmWriter
from telecrm.crm.schemas import Page
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.reports import service
from telecrm.reports.schemas import (
    AggregationCompute,
    AggregationSummary,
    DealAggregationQuery,
    DealAggregationRead,
    PeriodTotal,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/deal-aggregations", response_model=Page[DealAggregationRead])
def list_deal_aggregations(
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[DealAggregationQuery, Query()],
    _: CrmReader,
) -> Page[DealAggregationRead]:
    return service.list_aggregations(session, query, settings)


@router.get("/deal-aggregations/periods", response_model=list[PeriodTotal])
def deal_aggregation_periods(
    session: SessionDep,
    query: Annotated[DealAggregationQuery, Query()],
    _: CrmReader,
) -> list[PeriodTotal]:
    """The aggregations of a kind (monthly unless named) summed per period, over every
    account or the one asked for; sort, offset and limit do not apply."""
    return service.period_totals(session, query)


@router.post("/deal-aggregations/compute", response_model=list[AggregationSummary])
def compute_deal_aggregations(
    session: SessionDep,
    _: CrmWriter,
    body: AggregationCompute | None = None,
) -> list[AggregationSummary]:
    """Recompute the aggregations (all kinds unless the body names some)."""
    return service.compute(session, (body or AggregationCompute()).kinds)
