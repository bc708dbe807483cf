"""``telecrm crm``: extract from the external CRM, update it, push pending changes,
aggregate deals."""

from __future__ import annotations

import enum
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import typer

from telecrm.config import get_settings
from telecrm.console import console, print_table, progress
from telecrm.crm import sync
from telecrm.crm.connector import CrmDomain
from telecrm.db import session_scope
from telecrm.reports import service as reports
from telecrm.reports.models import AggregationKind
from telecrm.reports.schemas import AggregationSummary

crm_app = typer.Typer(
    help="The CRM (accounts, contacts, deals): extract from HubSpot, update, aggregate.",
    no_args_is_help=True,
)


class DomainChoice(enum.StrEnum):
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    DEALS = "deals"
    ALL = "all"


def _domains(choice: DomainChoice) -> list[CrmDomain]:
    # "all" in dependency order: contacts and deals point at accounts.
    return list(CrmDomain) if choice is DomainChoice.ALL else [CrmDomain(choice.value)]


def _print_aggregations(summaries: list[AggregationSummary]) -> None:
    print_table(
        "deal aggregations",
        ["kind", "account-periods", "accounts", "deals", "total deal size"],
        [(s.kind.value, s.rows, s.accounts, s.deals, s.total_deal_size) for s in summaries],
    )


@crm_app.command()
def extract(
    output: Path = typer.Option(..., help="Directory for <domain>.json and <domain>.csv."),
    domain: DomainChoice = typer.Option(DomainChoice.ALL, help="What to extract."),
) -> None:
    """Pull from the CRM, clean, save what changed, recompute the deal aggregations,
    and export the clean records as JSON and CSV."""
    settings = get_settings()
    connector = sync.required_connector(settings)
    results: list[sync.ExtractResult] = []
    summaries: list[AggregationSummary] = []
    with connector, progress() as bar:
        for crm_domain in _domains(domain):
            task = bar.add_task(f"{crm_domain}: fetching", total=None)
            with session_scope() as session:
                result = sync.extract(
                    session,
                    settings,
                    connector,
                    crm_domain,
                    output,
                    on_page=partial(bar.advance, task),
                )
                if crm_domain is CrmDomain.DEALS:
                    summaries = reports.compute(session, list(AggregationKind))
            bar.update(task, description=f"{crm_domain}: saved", total=result.fetched)
            results.append(result)
    print_table(
        f"CRM extract from {connector.name}",
        ["domain", "fetched", "new", "changed", "unchanged", "pending", "rejected", "files"],
        [
            (
                r.domain.value,
                r.fetched,
                r.report.new,
                r.report.changed,
                r.report.unchanged,
                r.report.pending,
                len(r.report.rejected),
                ", ".join(path.name for path in r.files),
            )
            for r in results
        ],
    )
    if summaries:
        _print_aggregations(summaries)
    if any(r.report.pending for r in results):
        console.print(
            "pending: records changed here whose change is not in the CRM yet were left as "
            "they are; 'telecrm crm push' writes them"
        )
    if any(r.report.rejected for r in results):
        console.print(f"rejected records and the reasons: {output}/<domain>.rejected.csv")


@crm_app.command()
def update(
    domain: CrmDomain = typer.Option(..., help="accounts, contacts or deals."),
    key: str = typer.Option(..., help="The field that selects the records, e.g. deal_id."),
    value: str = typer.Option(..., help="Its value; every record with it is updated."),
    key_to_update: str = typer.Option(..., help="The field to change, e.g. deal_size."),
    update_value: str = typer.Option(..., help="The new value ('' for none)."),
) -> None:
    """Set a field of every matching record, in the CRM and in the database. Values
    are cast to the fields' types; a CRM that refuses means no change is kept."""
    settings = get_settings()
    connector = sync.connector_from_settings(settings)
    with connector or nullcontext(), session_scope() as session:
        service = sync.service_for(domain, session, settings, connector)
        outcome = service.update_field(key, value, key_to_update, update_value)
    where = f"in {outcome.crm} and the database" if outcome.crm else "in the database"
    console.print(
        f"{domain}: {outcome.matched} with {key} = {value}; {key_to_update} set to "
        f"{update_value!r} on {outcome.changed} {where}"
        + ("" if outcome.crm else " (no external CRM configured)")
    )


@crm_app.command()
def push(
    domain: DomainChoice = typer.Option(DomainChoice.ALL, help="What to push."),
) -> None:
    """Write again to the CRM the local changes it did not take (marked pending)."""
    settings = get_settings()
    connector = sync.required_connector(settings)
    with connector:
        for crm_domain in _domains(domain):
            with session_scope() as session:
                count = sync.service_for(crm_domain, session, settings, connector).push_pending()
            console.print(f"{crm_domain}: {count} pending written to {connector.name}")


@crm_app.command()
def aggregate(
    kind: AggregationKind = typer.Option(..., help="daily, weekly or monthly."),
) -> None:
    """Recompute the deal aggregations of a kind (sum of deal sizes and number of
    deals per account and period)."""
    with session_scope() as session:
        summary = reports.compute_aggregates(session, kind)
    _print_aggregations([summary])
