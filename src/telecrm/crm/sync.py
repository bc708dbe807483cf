"""The sync with the external CRM, domain by domain: which connector is configured,
which service serves a domain, and the extract (pull, clean, write what changed,
export files)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from telecrm.accounts.service import AccountService
from telecrm.config import Settings
from telecrm.contacts.service import ContactService
from telecrm.crm.connector import CrmConnector, CrmDomain, CrmRecord
from telecrm.crm.export import save_rejected
from telecrm.crm.hubspot import HubSpotConnector
from telecrm.crm.service_base import CrmService, SyncReport
from telecrm.deals.service import DealService

SERVICES: dict[CrmDomain, Callable[..., CrmService]] = {
    CrmDomain.ACCOUNTS: AccountService,
    CrmDomain.CONTACTS: ContactService,
    CrmDomain.DEALS: DealService,
}


def connector_from_settings(settings: Settings, **options: Any) -> CrmConnector | None:
    """HubSpot when its token is set; otherwise None (the CRM data is local only)."""
    if settings.hubspot_token is None:
        return None
    return HubSpotConnector.from_settings(settings, **options)


def service_for(
    domain: CrmDomain, session: Session, settings: Settings, connector: CrmConnector | None
) -> CrmService:
    return SERVICES[domain](session, settings, connector)


@dataclass
class ExtractResult:
    domain: CrmDomain
    fetched: int
    report: SyncReport
    files: list[Path] = field(default_factory=list)


def extract(
    session: Session,
    settings: Settings,
    connector: CrmConnector,
    domain: CrmDomain,
    output_dir: Path,
    on_page: Callable[[int], None] = lambda count: None,
) -> ExtractResult:
    """Pull every record of the domain, clean it, write what changed, and export the
    clean records to ``DIR/<domain>.json`` and ``.csv`` (the rejected ones, if any,
    to ``DIR/<domain>.rejected.csv``)."""
    service = service_for(domain, session, settings, connector)
    fetched = 0

    def records() -> Iterator[CrmRecord]:
        nonlocal fetched
        for page in connector.pages(domain):
            fetched += len(page)
            on_page(len(page))
            yield from page

    report, clean = service.sync_from_crm(records())
    result = ExtractResult(domain, fetched, report)
    output_dir.mkdir(parents=True, exist_ok=True)
    result.files.append(service.save_crm_data_to_json(output_dir / f"{domain}.json", clean))
    result.files.append(service.save_crm_data_to_csv(output_dir / f"{domain}.csv", clean))
    rejected_file = output_dir / f"{domain}.rejected.csv"
    if report.rejected:
        result.files.append(save_rejected(rejected_file, report.rejected))
    else:
        rejected_file.unlink(missing_ok=True)
    return result
