"""Demo step ``billing``: an Indonesian operator. Five rate groups (each rate type
and billing cycle) over a few thousand destination prefixes, 50 contracts, and
100,000 Asterisk calls of the previous month written as a Master.csv, imported,
rated and invoiced the way an operator would with the CLI. Idempotent: the
reference data is upserted, the calls are deduplicated by the importer, rating
only writes what changes and the invoices are drafts generated again in place."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from telecrm.cdrs.formats import FileFormat
from telecrm.cdrs.imports import service as cdr_imports
from telecrm.cdrs.rating_run import service as rating_run
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.contracts import service as contracts_service
from telecrm.contracts.scope import EVERYTHING
from telecrm.demo import billing_data
from telecrm.invoices import service as invoices_service
from telecrm.invoices.console import print_invoices
from telecrm.rates import imports as rate_imports
from telecrm.rates import repository as rates_repository
from telecrm.rates.models import RateGroup

CONTRACTS = 50
CALLS = 100_000


def _rate_groups(session: Session, settings: Settings) -> list[int]:
    destinations = billing_data.destinations()
    ids = []
    for price_list in billing_data.PRICE_LISTS:
        group = rates_repository.get_group_by_name(session, price_list.name)
        if group is None:
            group = RateGroup(name=price_list.name, memo=price_list.memo)
            rates_repository.add(session, group)
        deck = billing_data.rate_deck(price_list, destinations)
        rate_imports.import_rates(
            session, io.StringIO(deck), f"{price_list.name}.csv", settings.tz, group_id=group.id
        )
        ids.append(group.id)
    return ids


def _previous_month(settings: Settings) -> tuple[int, int]:
    today = dt.datetime.now(settings.tz).date()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return last_month.year, last_month.month


def load(session: Session, settings: Settings) -> None:
    group_ids = _rate_groups(session, settings)
    contracts_service.import_contracts(
        session, io.StringIO(billing_data.contracts_csv(CONTRACTS, group_ids)), "contracts.csv"
    )
    accountcodes = [f"IDC{number:04d}" for number in range(1, CONTRACTS + 1)]
    year, month = _previous_month(settings)
    start, end = billing_month(year, month, settings.tz)

    with tempfile.TemporaryDirectory(prefix="telecrm-demo-") as folder:
        path = Path(folder) / "Master.csv"
        billing_data.write_master_csv(
            path,
            CALLS,
            accountcodes,
            dt.date(year, month, 1),
            settings.tz,
            billing_data.destinations(),
        )
        for _ in cdr_imports.import_file(
            session,
            path,
            FileFormat.ASTERISK_CSV.value,
            settings.timezone,
            "demo-pbx",
            settings.cdr_import_batch_size,
        ):
            session.flush()
    rating_run.process_billing(session, start, end, False, settings)
    invoices_service.generate(session, year, month, settings)
    invoices = invoices_service.list_invoices(
        session, EVERYTHING, settings.tz, year=year, month=month
    )
    print_invoices(f"demo invoices of {year}-{month:02d}", invoices)
