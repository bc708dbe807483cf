"""The extract: pull from the (fake) HubSpot, clean, write what changed, export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from telecrm.accounts.service import AccountService
from telecrm.config import Settings
from telecrm.contacts.service import ContactService
from telecrm.crm import sync
from telecrm.crm.cleaning import RejectedRow
from telecrm.crm.connector import CrmConnector, CrmDomain
from telecrm.crm.hubspot import HubSpotConnector
from telecrm.deals.service import DealService
from tests import factories
from tests.crm.fake_hubspot import FakeHubSpot


@pytest.fixture()
def connector(crm_settings: Settings) -> Iterator[CrmConnector]:
    connector = sync.connector_from_settings(crm_settings)
    assert connector is not None
    with connector:
        yield connector


def _company(account_id: int, **properties: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": f"PT Company {account_id}",
        "industry": "Logistics",
        "annualrevenue": "1500000",
        "region": "Asia",
        **properties,
    }


def _contact(contact_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "firstname": "Siti",
        "lastname": "Halim",
        "email": f"{contact_id.lower()}@example.com",
        "phone": "0812 3456 7890",
        "lead_source": "Referral",
        **properties,
    }


def _deal(deal_id: int, **properties: Any) -> dict[str, Any]:
    return {
        "deal_id": deal_id,
        "dealname": f"Deal {deal_id}",
        "amount": "1200.50",
        "probability_of_closure": "40%",
        "dealstage": "contractsent",
        "createdate": "2024-05-06T07:08:09.123Z",
        **properties,
    }


@pytest.fixture()
def crm_data(hubspot: FakeHubSpot) -> dict[str, str]:
    """Two good companies and one without an industry; contacts and deals of them,
    a contact with an impossible phone, a deal of the bad company, a duplicate."""
    ids = {
        "a1": hubspot.add("companies", _company(1)),
        "a2": hubspot.add("companies", _company(2, region="Europe")),
        "a3": hubspot.add("companies", _company(3, industry="")),
    }
    hubspot.add("contacts", _contact("C1"), company=ids["a1"])
    hubspot.add("contacts", _contact("C2", phone="+65 6123 4567", jobtitle="CFO"))
    hubspot.add("contacts", _contact("C3", phone="12345"), company=ids["a2"])
    hubspot.add("deals", _deal(101), company=ids["a1"])
    hubspot.add("deals", _deal(102, dealstage="closedwon", amount=""), company=ids["a2"])
    hubspot.add("deals", _deal(103), company=ids["a3"])
    hubspot.add("deals", _deal(101, dealname="Deal 101 again"), company=ids["a1"])
    return ids


def _extract_all(
    session: Session, settings: Settings, connector: CrmConnector, output: Path
) -> dict[CrmDomain, sync.ExtractResult]:
    return {
        domain: sync.extract(session, settings, connector, domain, output) for domain in CrmDomain
    }


def test_extract_cleans_links_saves_and_exports_every_domain(
    db_session: Session,
    crm_settings: Settings,
    connector: CrmConnector,
    crm_data: dict[str, str],
    tmp_path: Path,
) -> None:
    pages: list[int] = []
    results = {
        domain: sync.extract(
            db_session, crm_settings, connector, domain, tmp_path, on_page=pages.append
        )
        for domain in CrmDomain
    }
    assert {d: (r.fetched, r.report.new, len(r.report.rejected)) for d, r in results.items()} == {
        CrmDomain.ACCOUNTS: (3, 2, 1),
        CrmDomain.CONTACTS: (3, 2, 1),
        CrmDomain.DEALS: (4, 2, 2),
    }
    assert pages == [3, 3, 4]
    contacts = ContactService(db_session, crm_settings)
    assert [(c.contact_id, c.phone, c.account_id) for c in contacts.find_all()] == [
        ("C1", "+6281234567890", 1),
        ("C2", "+6561234567", None),
    ]
    deals = DealService(db_session, crm_settings).find_all()
    assert [(d.deal_id, d.deal_name, d.account_id, d.deal_size) for d in deals] == [
        (101, "Deal 101 again", 1, Decimal("1200.50")),
        (102, "Deal 102", 2, None),
    ]
    assert [(r.row, r.reason) for r in results[CrmDomain.DEALS].report.rejected] == [
        (1, "duplicate deal_id 101: row 4 is kept (the one updated last)"),
        (3, "missing account_id (no associated company that is an account here)"),
    ]
    exported = json.loads((tmp_path / "deals.json").read_text())
    assert [row["deal_id"] for row in exported] == [101, 102]
    assert exported[0]["deal_stage"] == "Negotiation"
    with (tmp_path / "accounts.rejected.csv").open(newline="") as source:
        assert list(csv.DictReader(source)) == [
            {"row": "3", "key": "3", "crm_id": crm_data["a3"], "reason": "missing industry"}
        ]
    assert {path.name for path in results[CrmDomain.CONTACTS].files} == {
        "contacts.json",
        "contacts.csv",
        "contacts.rejected.csv",
    }


def test_a_second_extract_writes_only_what_changed_in_the_crm(
    db_session: Session,
    crm_settings: Settings,
    connector: CrmConnector,
    hubspot: FakeHubSpot,
    crm_data: dict[str, str],
    tmp_path: Path,
) -> None:
    _extract_all(db_session, crm_settings, connector, tmp_path)
    again = _extract_all(db_session, crm_settings, connector, tmp_path)
    assert [(r.report.new, r.report.changed, r.report.unchanged) for r in again.values()] == [
        (0, 0, 2),
        (0, 0, 2),
        (0, 0, 2),
    ]
    hubspot.objects["companies"][crm_data["a2"]]["properties"]["region"] = "North America"
    hubspot.objects["companies"][crm_data["a3"]]["properties"]["industry"] = "Energy"
    report = sync.extract(db_session, crm_settings, connector, CrmDomain.ACCOUNTS, tmp_path).report
    assert (report.new, report.changed, report.unchanged, report.rejected) == (1, 1, 1, [])
    assert not (tmp_path / "accounts.rejected.csv").exists()
    assert AccountService(db_session, crm_settings).find_by_id(2).region.value == "North America"


def test_an_extract_leaves_a_record_with_a_pending_local_change_alone(
    db_session: Session,
    crm_settings: Settings,
    connector: CrmConnector,
    crm_data: dict[str, str],
    tmp_path: Path,
) -> None:
    factories.account(
        db_session, account_id=1, industry="Changed here", crm_sync_error="HubSpot said 500"
    )
    report = sync.extract(db_session, crm_settings, connector, CrmDomain.ACCOUNTS, tmp_path).report
    assert (report.new, report.pending) == (1, 1)
    assert AccountService(db_session, crm_settings).find_by_id(1).industry == "Changed here"


def test_an_extract_through_429_500_and_dropped_connections_loses_and_duplicates_nothing(
    db_session: Session,
    crm_settings: Settings,
    hubspot: FakeHubSpot,
    tmp_path: Path,
) -> None:
    for n in range(1, 251):
        hubspot.add("companies", _company(n))
    # Pages 1, 2 and 3 each fail once (each retry is a request too).
    hubspot.fail(429, retry_after="1", path_contains="/companies")
    hubspot.fail(500, after=2, path_contains="/companies")
    hubspot.fail(None, after=4, path_contains="/companies")
    settings = crm_settings.model_copy(update={"hubspot_max_attempts": 2})
    with HubSpotConnector.from_settings(settings) as connector:
        result = sync.extract(db_session, settings, connector, CrmDomain.ACCOUNTS, tmp_path)
    assert (result.fetched, result.report.new, result.report.rejected) == (250, 250, [])
    assert [a.account_id for a in AccountService(db_session, settings).find_all()] == list(
        range(1, 251)
    )
    assert len(hubspot.requests) == 3 + 3


def test_without_a_token_there_is_no_external_crm(settings: Settings) -> None:
    assert settings.hubspot_token is None
    assert sync.connector_from_settings(settings) is None


def test_rejected_rows_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    path = sync.save_rejected(
        tmp_path / "accounts.rejected.csv",
        [RejectedRow(row=1, key="=1+1", crm_id="@x", reason="-bad value")],
    )
    with path.open(newline="") as source:
        assert list(csv.DictReader(source)) == [
            {"row": "1", "key": "'=1+1", "crm_id": "'@x", "reason": "'-bad value"}
        ]
