from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.cdrs.listing import service
from telecrm.cdrs.listing.filters import CdrFilters
from telecrm.cdrs.schemas import CdrPage, CdrRead
from telecrm.contracts.scope import ContractScope
from telecrm.db import BigIntId, IntId
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import CdrNotFound
from telecrm.rating.types import RatingStatus, UnratedReason

# Under /api/cdrs (telecrm.cdrs.routes), after every other route there: /{cdr_id}
# would take /statuses, /sync...
router = APIRouter(tags=["cdrs"])

# A customer reads its own contract's calls only; see ContractScope.
ReadAccess = Annotated[
    Principal, Depends(require(Role.BILLING, Role.SALES, Role.VIEWER, Role.CUSTOMER))
]
TIME_HELP = "A time without a zone is in the billing time zone."


@router.get("", response_model=CdrPage, summary="List calls, newest first")
def list_cdrs(
    session: SessionDep,
    principal: ReadAccess,
    settings: SettingsDep,
    accountcode: str | None = None,
    contract_id: IntId | None = None,
    start_from: dt.datetime | None = Query(default=None, description="Inclusive. " + TIME_HELP),
    start_to: dt.datetime | None = Query(default=None, description="Exclusive. " + TIME_HELP),
    status: str | None = Query(default=None, description="Lifecycle status (seed 000)."),
    rating_status: RatingStatus | None = None,
    rating_reason: UnratedReason | None = None,
    invoice_id: IntId | None = None,
    number: str | None = Query(
        default=None,
        max_length=40,
        description="The start of the calling or called number, as the PBX wrote it.",
    ),
    cursor: str | None = Query(default=None, description="next_cursor of the previous page."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> CdrPage:
    filters = CdrFilters(
        accountcode=accountcode,
        contract_id=contract_id,
        start_from=start_from,
        start_to=start_to,
        status=status,
        rating_status=rating_status,
        rating_reason=rating_reason.value if rating_reason else None,
        invoice_id=invoice_id,
        number=number or None,
    )
    cdrs, next_cursor = service.list_cdrs(
        session, ContractScope.of(principal), filters, settings.tz, cursor, limit
    )
    return CdrPage(items=[CdrRead.model_validate(cdr) for cdr in cdrs], next_cursor=next_cursor)


@router.get("/{cdr_id}", response_model=CdrRead, responses=error_responses(CdrNotFound))
def get_cdr(session: SessionDep, cdr_id: BigIntId, principal: ReadAccess) -> CdrRead:
    return CdrRead.model_validate(service.get_cdr(session, ContractScope.of(principal), cdr_id))
