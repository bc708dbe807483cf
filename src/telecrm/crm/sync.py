"""The sync with the external CRM, domain by domain: which connector is configured,
which service serves a domain, and the extract (pull, clean, write what changed,
export files)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from telecrm.accounts.service import AccountService
from telecrm.config import Settings
from telecrm.contacts.service import ContactService
from telecrm.crm.connector import CrmConnector, CrmDomain, CrmRecord
from telecrm.crm.export import save_rejected
from telecrm.crm.hubspot import HubSpotConnector
from telecrm.crm.schemas import CrmSyncRequest, ExtractOutcome, PushOutcome, RejectedRecord
from telecrm.crm.service_base import CrmService, SyncReport
from telecrm.deals.service import DealService
from telecrm.errors import CrmNotConfigured
from telecrm.reports import service as reports
from telecrm.reports.models import AggregationKind
from telecrm.reports.schemas import AggregationSummary

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


def required_connector(settings: Settings, **options: Any) -> CrmConnector:
    """The configured CRM, for what cannot be done without one (extract, push)."""
    connector = connector_from_settings(settings, **options)
    if connector is None:
        raise CrmNotConfigured("no external CRM is configured: set TELECRM_HUBSPOT_TOKEN")
    return connector


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
    output_dir: Path | None,
    on_page: Callable[[int], None] = lambda count: None,
) -> ExtractResult:
    """Pull every record of the domain, clean it, write what changed, and export the
    clean records to ``DIR/<domain>.json`` and ``.csv`` (the rejected ones, if any,
    to ``DIR/<domain>.rejected.csv``); without a ``DIR``, no files."""
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
    if output_dir is None:
        return result
    output_dir.mkdir(parents=True, exist_ok=True)
    result.files.append(service.save_crm_data_to_json(output_dir / f"{domain}.json", clean))
    result.files.append(service.save_crm_data_to_csv(output_dir / f"{domain}.csv", clean))
    rejected_file = output_dir / f"{domain}.rejected.csv"
    if report.rejected:
        result.files.append(save_rejected(rejected_file, report.rejected))
    else:
        rejected_file.unlink(missing_ok=True)
    return result


class ExtractReport(BaseModel):
    """An extract of some domains: each one's outcome, and the deal aggregations
    recomputed when deals were extracted."""

    domains: list[ExtractOutcome]
    aggregations: list[AggregationSummary]


def _outcome(result: ExtractResult) -> ExtractOutcome:
    report = result.report
    return ExtractOutcome(
        domain=result.domain,
        fetched=result.fetched,
        new=report.new,
        changed=report.changed,
        unchanged=report.unchanged,
        pending=report.pending,
        rejected=[RejectedRecord.model_validate(row) for row in report.rejected],
    )


def extract_domains(
    session: Session, settings: Settings, connector: CrmConnector, request: CrmSyncRequest
) -> ExtractReport:
    """Extract the domains asked for (accounts first), without files; when deals are
    among them, recompute every kind of deal aggregation."""
    domains = request.ordered()
    results = [extract(session, settings, connector, domain, None) for domain in domains]
    summaries = []
    if CrmDomain.DEALS in domains:
        summaries = reports.compute(session, list(AggregationKind))
    return ExtractReport(domains=[_outcome(r) for r in results], aggregations=summaries)


def push_domains(
    session: Session, settings: Settings, connector: CrmConnector, request: CrmSyncRequest
) -> list[PushOutcome]:
    """Write again the local changes the CRM did not take; how many, per domain."""
    return [
        PushOutcome(
            domain=domain,
            pushed=service_for(domain, session, settings, connector).push_pending(),
        )
        for domain in request.ordered()
    ]
