from __future__ import annotations

from telecrm.crm.repository_base import CrmRepository
from telecrm.deals.models import Deal


class DealRepository(CrmRepository[Deal]):
    model = Deal
    key_field = "deal_id"
