from __future__ import annotations

from typing import Any, ClassVar

from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmService
from telecrm.db import utcnow
from telecrm.deals.models import Deal
from telecrm.deals.repository import DealRepository
from telecrm.deals.schemas import DealDTO, DealFields, DealRead
from telecrm.reports import repository as reports
from telecrm.reports.models import AggregationKind
from telecrm.reports.schemas import AggregationSummary


class DealService(CrmService[Deal, DealDTO]):
    domain = CrmDomain.DEALS
    noun = "deal"
    model = Deal
    dto = DealDTO
    content = DealFields
    read_model = DealRead
    repository_class = DealRepository
    key_field = "deal_id"
    links_to_account = True
    missing_reasons: ClassVar[dict[str, str]] = {
        "account_id": "account_id (no associated company that is an account here)"
    }

    def _creation_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("created_at") is None:
            values["created_at"] = utcnow()
        return values

    def compute_aggregates(self, kind: AggregationKind) -> AggregationSummary:
        """Per account and period of the kind, the sum of deal sizes and the number
        of deals, computed by the database and stored in place of the previous ones:
        computing twice gives the same rows."""
        reports.replace_aggregations(self.session, kind)
        rows, accounts, deals, total = reports.totals(self.session, kind)
        return AggregationSummary(
            kind=kind, rows=rows, accounts=accounts, deals=deals, total_deal_size=total
        )
