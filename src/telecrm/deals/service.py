"""The deals domain of the CRM: its spec for the generic operations
(``crm/service_base.py``), and its one rule of its own, a new deal's creation time."""

from __future__ import annotations

from functools import partial
from typing import Any

from telecrm.accounts.service import account_links
from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmDomainSpec, CrmService
from telecrm.db import utcnow
from telecrm.deals.models import Deal
from telecrm.deals.repository import DealRepository
from telecrm.deals.schemas import DealDTO, DealFields, DealRead


def creation_defaults(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("created_at") is None:
        values["created_at"] = utcnow()
    return values


DEALS = CrmDomainSpec(
    domain=CrmDomain.DEALS,
    noun="deal",
    model=Deal,
    dto=DealDTO,
    content=DealFields,
    read_model=DealRead,
    repository=DealRepository,
    key_field="deal_id",
    links=account_links,
    missing_reasons={"account_id": "account_id (no associated company that is an account here)"},
    creation_defaults=creation_defaults,
)
# Seed 003's service object: DealService(session, settings[, connector]).find_all()
DealService = partial(CrmService, DEALS)
