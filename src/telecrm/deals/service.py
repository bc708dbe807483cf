from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.orm import Session

from telecrm.accounts.repository import AccountRepository
from telecrm.config import Settings
from telecrm.crm.connector import CrmConnector, CrmDomain
from telecrm.crm.links import AccountLinks
from telecrm.crm.service_base import CrmService
from telecrm.db import utcnow
from telecrm.deals.models import Deal
from telecrm.deals.repository import DealRepository
from telecrm.deals.schemas import DealDTO, DealFields, DealRead


class DealService(CrmService[Deal, DealDTO]):
    domain = CrmDomain.DEALS
    noun = "deal"
    model = Deal
    dto = DealDTO
    content = DealFields
    read_model = DealRead
    repository_class = DealRepository
    key_field = "deal_id"
    missing_reasons: ClassVar[dict[str, str]] = {
        "account_id": "account_id (no associated company that is an account here)"
    }

    def __init__(
        self, session: Session, settings: Settings, connector: CrmConnector | None = None
    ) -> None:
        super().__init__(session, settings, connector, AccountLinks(AccountRepository(session)))

    def _creation_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("created_at") is None:
            values["created_at"] = utcnow()
        return values
