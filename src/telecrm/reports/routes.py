from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from telecrm.auth.service import Principal
from telecrm.crm.dependencies import crm_reader, crm_writer
from telecrm.crm.schemas import Page
from telecrm.dependencies import SessionDep
from telecrm.reports import service
from telecrm.reports.schemas import (
    AggregationCompute,
    AggregationSummary,
    DealAggregationQuery,
    DealAggregationRead,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/deal-aggregations", response_model=Page[DealAggregationRead])
def list_deal_aggregations(
    session: SessionDep,
    query: Annotated[DealAggregationQuery, Query()],
    _: Principal = Depends(crm_reader),
) -> Page[DealAggregationRead]:
    return service.list_aggregations(session, query)


@router.post("/deal-aggregations/compute", response_model=list[AggregationSummary])
def compute_deal_aggregations(
    session: SessionDep,
    body: AggregationCompute | None = None,
    _: Principal = Depends(crm_writer),
) -> list[AggregationSummary]:
    """Recompute the aggregations (all kinds unless the body names some)."""
    return service.compute(session, (body or AggregationCompute()).kinds)
