from __future__ import annotations

from telecrm.crm.routes import crm_router
from telecrm.db import IntId
from telecrm.deals.schemas import DealCreate, DealQuery, DealUpdate
from telecrm.deals.service import DEALS

router = crm_router(DEALS, key_type=IntId, create=DealCreate, update=DealUpdate, query=DealQuery)
