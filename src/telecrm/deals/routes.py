from __future__ import annotations

from telecrm.crm.routes import crm_router
from telecrm.db import IntId
from telecrm.deals.schemas import DealCreate, DealQuery, DealRead, DealUpdate
from telecrm.deals.service import DealService

router = crm_router(
    plural="deals",
    noun="deal",
    key_field="deal_id",
    key_type=IntId,
    service=DealService,
    read=DealRead,
    create=DealCreate,
    update=DealUpdate,
    query=DealQuery,
)
